import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, useNavigate } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import type { Collection, Filter, UpdateCollectionInput } from '@selfbaas/sdk';
import type { Doc } from '../api/types.js';
import { useClient } from '../session.js';
import { DataTable, Dialog, ErrorMessage, formatDate, Loading, Pager, parseJson } from '../ui.js';
import { SchemaEditor } from './schema-editor.js';

const route = getRouteApi('/collections/$name');
const SYSTEM = new Set(['id', 'createdAt', 'updatedAt', 'ownerId', 'acl', 'version']);

export function CollectionPage() {
  const { name } = route.useParams();
  const client = useClient();
  const [tab, setTab] = useState<'documents' | 'schema'>('documents');
  const collection = useQuery({ queryKey: ['collection', name], queryFn: () => client.admin.collections.get(name) });
  return (
    <div className="page">
      <h1>
        Collection <code>{name}</code>
      </h1>
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === 'documents'} className={tab === 'documents' ? 'active' : ''} onClick={() => setTab('documents')}>
          Documents
        </button>
        <button type="button" role="tab" aria-selected={tab === 'schema'} className={tab === 'schema' ? 'active' : ''} onClick={() => setTab('schema')}>
          Schema &amp; rules
        </button>
      </div>
      {collection.isPending ? (
        <Loading what="collection" />
      ) : collection.error ? (
        <ErrorMessage error={collection.error} />
      ) : tab === 'documents' ? (
        <Documents collection={collection.data} />
      ) : (
        <Schema collection={collection.data} />
      )}
    </div>
  );
}

function Schema({ collection }: { collection: Collection }) {
  const client = useClient();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: (input: UpdateCollectionInput) => client.admin.collections.update(collection.name, input),
    onSuccess: (c) => {
      qc.setQueryData(['collection', collection.name], c);
      void qc.invalidateQueries({ queryKey: ['collections'] });
      setSaved(true);
    },
  });
  const remove = useMutation({
    mutationFn: () => client.admin.collections.delete(collection.name, { force: true }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['collections'] });
      void navigate({ to: '/collections' });
    },
  });
  return (
    <div className="stack">
      <SchemaEditor
        key={collection.updatedAt}
        initial={collection}
        isNew={false}
        error={save.error}
        busy={save.isPending}
        onSubmit={({ fields, indexes, rules }) => {
          setSaved(false);
          save.mutate({ fields, indexes, rules });
        }}
      />
      {saved && (
        <p className="ok" role="status">
          Schema saved.
        </p>
      )}
      <div className="danger-zone">
        <h2>Delete collection</h2>
        <ErrorMessage error={remove.error} />
        <button
          type="button"
          className="danger"
          onClick={() => {
            if (confirm(`Delete the collection "${collection.name}" and all its documents?`)) remove.mutate();
          }}
        >
          Delete {collection.name}
        </button>
      </div>
    </div>
  );
}

function Documents({ collection }: { collection: Collection }) {
  const client = useClient();
  const qc = useQueryClient();
  const docs = client.collection(collection.name);
  const [filterText, setFilterText] = useState('');
  const [sortText, setSortText] = useState('-createdAt');
  const [applied, setApplied] = useState<{ filter?: Filter<Record<string, unknown>>; sort: string }>({ sort: '-createdAt' });
  const [filterError, setFilterError] = useState<unknown>();
  const [cursors, setCursors] = useState<string[]>([]);
  const [editing, setEditing] = useState<Doc | 'new'>();
  const cursor = cursors[cursors.length - 1];
  const list = useQuery({
    queryKey: ['documents', collection.name, applied, cursor],
    queryFn: () => docs.list({ filter: applied.filter, sort: applied.sort || undefined, cursor, limit: 25, count: true }),
  });
  const remove = useMutation({
    mutationFn: (id: string) => docs.delete(id),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['documents', collection.name] }),
  });
  const columns = ['id', ...collection.fields.map((f) => f.name), 'createdAt'];

  function submit(e: FormEvent) {
    e.preventDefault();
    try {
      const parsed = parseJson(filterText, 'The filter');
      if (parsed !== undefined && (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))) throw new Error('The filter must be a JSON object, like {"age": {"$gte": 18}}');
      setFilterError(undefined);
      setApplied({ filter: parsed as Filter<Record<string, unknown>> | undefined, sort: sortText.trim() });
      setCursors([]);
    } catch (err) {
      setFilterError(err);
    }
  }

  return (
    <div className="stack">
      <form className="row filters" onSubmit={submit}>
        <label className="grow">
          Filter (JSON)
          <input name="filter" value={filterText} onChange={(e) => setFilterText(e.target.value)} placeholder='{"title": {"$startsWith": "Hello"}}' spellCheck={false} />
        </label>
        <label>
          Sort
          <input name="sort" value={sortText} onChange={(e) => setSortText(e.target.value)} placeholder="-createdAt,title" />
        </label>
        <button type="submit">Apply</button>
        <button type="button" className="primary" onClick={() => setEditing('new')}>
          New document
        </button>
      </form>
      <ErrorMessage error={filterError} title="Bad filter" />
      <ErrorMessage error={remove.error} title="Could not delete" />
      {list.isPending ? (
        <Loading what="documents" />
      ) : list.error ? (
        <ErrorMessage error={list.error} title="The query failed" />
      ) : (
        <>
          <p className="muted small" data-testid="doc-count">
            {list.data.count ?? list.data.items.length} matching document(s)
          </p>
          <DataTable head={[...columns, '']} className="grid" empty={list.data.items.length === 0 && <>No documents{applied.filter ? ' match this filter' : ' yet'}.</>}>
            {list.data.items.map((d) => (
              <tr key={d.id}>
                {columns.map((c) => (
                  <td key={c} title={c === 'id' ? d.id : undefined}>
                    {c === 'id' ? <code>{d.id.slice(0, 8)}</code> : c === 'createdAt' ? formatDate(d.createdAt) : cell(d[c])}
                  </td>
                ))}
                <td className="actions">
                  <button type="button" onClick={() => setEditing(d)}>
                    Edit
                  </button>
                  <button
                    type="button"
                    className="danger"
                    onClick={() => {
                      if (confirm('Delete this document?')) remove.mutate(d.id);
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </DataTable>
          <Pager cursors={cursors} nextCursor={list.data.nextCursor} onChange={setCursors} />
        </>
      )}
      <Dialog open={editing !== undefined} title={editing === 'new' ? 'New document' : 'Edit document'} wide onClose={() => setEditing(undefined)}>
        {editing !== undefined && <DocumentEditor collection={collection} doc={editing === 'new' ? undefined : editing} onDone={() => setEditing(undefined)} />}
      </Dialog>
    </div>
  );
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function DocumentEditor({ collection, doc, onDone }: { collection: Collection; doc?: Doc; onDone: () => void }) {
  const client = useClient();
  const qc = useQueryClient();
  const docs = client.collection(collection.name);
  const data = doc ? Object.fromEntries(Object.entries(doc).filter(([k]) => !SYSTEM.has(k))) : Object.fromEntries(collection.fields.map((f) => [f.name, null]));
  const [text, setText] = useState(JSON.stringify(data, null, 2));
  const [aclOn, setAclOn] = useState(Boolean(doc?.acl));
  const [aclRead, setAclRead] = useState(doc?.acl?.read?.join(', ') ?? '');
  const [aclWrite, setAclWrite] = useState(doc?.acl?.write?.join(', ') ?? '');
  const [parseError, setParseError] = useState<unknown>();
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) => (doc ? docs.replace(doc.id, body) : docs.create(body)),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['documents', collection.name] });
      onDone();
    },
  });
  const split = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

  function submit(e: FormEvent) {
    e.preventDefault();
    try {
      const parsed = parseJson(text, 'The document') ?? {};
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('The document must be a JSON object');
      const body = { ...(parsed as Record<string, unknown>) };
      for (const [k, v] of Object.entries(body)) if (v === null && !doc) delete body[k];
      if (aclOn) body['acl'] = { read: split(aclRead), write: split(aclWrite) };
      else if (doc?.acl) body['acl'] = null;
      setParseError(undefined);
      save.mutate(body);
    } catch (err) {
      setParseError(err);
    }
  }

  return (
    <form className="stack" onSubmit={submit}>
      {doc && (
        <p className="muted small">
          <code>{doc.id}</code> · owner {doc.ownerId ?? 'none'} · updated {formatDate(doc.updatedAt)}
        </p>
      )}
      <label>
        Data (JSON; fields: {collection.fields.map((f) => `${f.name}: ${f.type}${f.required ? '*' : ''}`).join(', ') || 'any'})
        <textarea name="document" rows={12} spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} className="mono" />
      </label>
      <fieldset>
        <legend>Access control list</legend>
        <label className="check">
          <input type="checkbox" checked={aclOn} onChange={(e) => setAclOn(e.target.checked)} /> This document has its own ACL (narrows the collection rules)
        </label>
        {aclOn && (
          <div className="row">
            <label className="grow">
              Read (comma-separated: *, user:&lt;id&gt;, role:&lt;name&gt;)
              <input name="acl-read" value={aclRead} onChange={(e) => setAclRead(e.target.value)} />
            </label>
            <label className="grow">
              Write
              <input name="acl-write" value={aclWrite} onChange={(e) => setAclWrite(e.target.value)} />
            </label>
          </div>
        )}
      </fieldset>
      <ErrorMessage error={parseError ?? save.error} title="The document was not saved" />
      <button type="submit" className="primary" disabled={save.isPending}>
        {doc ? 'Save document' : 'Create document'}
      </button>
    </form>
  );
}
