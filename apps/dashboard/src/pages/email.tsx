import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import type { EmailTemplate } from '@selfbaas/sdk';
import { useClient } from '../session.js';
import { DataTable, Dialog, ErrorMessage, formatDate, Loading, Pager, parseJson, StatusBadge } from '../ui.js';

export function EmailPage() {
  const [tab, setTab] = useState<'log' | 'templates'>('log');
  return (
    <div className="page">
      <h1>Email</h1>
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === 'log'} className={tab === 'log' ? 'active' : ''} onClick={() => setTab('log')}>
          Delivery log
        </button>
        <button type="button" role="tab" aria-selected={tab === 'templates'} className={tab === 'templates' ? 'active' : ''} onClick={() => setTab('templates')}>
          Templates
        </button>
      </div>
      {tab === 'log' ? <DeliveryLog /> : <Templates />}
    </div>
  );
}

function DeliveryLog() {
  const client = useClient();
  const [status, setStatus] = useState('');
  const [to, setTo] = useState('');
  const [appliedTo, setAppliedTo] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const [open, setOpen] = useState<string>();
  const cursor = cursors[cursors.length - 1];
  const messages = useQuery({
    queryKey: ['emails', status, appliedTo, cursor],
    queryFn: () => client.admin.email.messages({ status: (status || undefined) as 'queued' | 'sent' | 'failed' | undefined, to: appliedTo || undefined, cursor, limit: 25 }),
    refetchInterval: 5000,
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    setAppliedTo(to.trim());
    setCursors([]);
  }
  return (
    <div className="stack">
      <form className="row" onSubmit={submit}>
        <label>
          Status
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value);
              setCursors([]);
            }}
          >
            <option value="">any</option>
            <option>queued</option>
            <option>sent</option>
            <option>failed</option>
          </select>
        </label>
        <label>
          Recipient
          <input type="email" value={to} onChange={(e) => setTo(e.target.value)} placeholder="someone@example.com" />
        </label>
        <button type="submit">Filter</button>
      </form>
      {messages.isPending ? (
        <Loading what="emails" />
      ) : messages.error ? (
        <ErrorMessage error={messages.error} />
      ) : (
        <>
          <DataTable head={['Subject', 'To', 'Status', 'Attempts', 'Template', 'Queued']} empty={messages.data.items.length === 0 && <>No emails.</>}>
            {messages.data.items.map((m) => (
              <tr key={m.id}>
                <td>
                  <button type="button" className="link" onClick={() => setOpen(m.id)}>
                    {m.subject || '(no subject)'}
                  </button>
                </td>
                <td>{m.to.join(', ')}</td>
                <td>
                  <StatusBadge status={m.status} />
                </td>
                <td>{m.attempts}</td>
                <td>{m.template ?? '—'}</td>
                <td>{formatDate(m.createdAt)}</td>
              </tr>
            ))}
          </DataTable>
          <Pager cursors={cursors} nextCursor={messages.data.nextCursor} onChange={setCursors} />
        </>
      )}
      <Dialog open={open !== undefined} title="Email" wide onClose={() => setOpen(undefined)}>
        {open && <Message id={open} />}
      </Dialog>
    </div>
  );
}

function Message({ id }: { id: string }) {
  const client = useClient();
  const qc = useQueryClient();
  const message = useQuery({ queryKey: ['email', id], queryFn: () => client.admin.email.message(id) });
  const retry = useMutation({
    mutationFn: () => client.admin.email.retry(id),
    onSuccess: (m) => {
      qc.setQueryData(['email', id], m);
      void qc.invalidateQueries({ queryKey: ['emails'] });
    },
  });
  if (message.isPending) return <Loading what="email" />;
  if (message.error) return <ErrorMessage error={message.error} />;
  const m = message.data;
  return (
    <div className="stack" data-testid="email-detail">
      <dl className="props">
        <dt>To</dt>
        <dd>{m.to.join(', ')}</dd>
        <dt>Subject</dt>
        <dd>{m.subject}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={m.status} /> after {m.attempts} attempt(s)
          {m.sentAt ? `, sent ${formatDate(m.sentAt)}` : ''}
        </dd>
        <dt>Last reply</dt>
        <dd className="small">{m.response ?? '—'}</dd>
        {m.error && (
          <>
            <dt>Error</dt>
            <dd className="small">{m.error}</dd>
          </>
        )}
        {m.rejected.length > 0 && (
          <>
            <dt>Rejected</dt>
            <dd>{m.rejected.join(', ')}</dd>
          </>
        )}
        <dt>Message-ID</dt>
        <dd className="small">{m.messageId ?? '—'}</dd>
      </dl>
      {m.status === 'failed' && (
        <button type="button" onClick={() => retry.mutate()}>
          Send again
        </button>
      )}
      <ErrorMessage error={retry.error} />
      {m.html && <HtmlFrame html={m.html} title={`HTML body of ${m.subject}`} />}
      {m.text && <pre className="preview-text">{m.text}</pre>}
    </div>
  );
}

/** Email HTML shown in a sandboxed frame: no scripts, no access to the dashboard. */
function HtmlFrame({ html, title }: { html: string; title: string }) {
  return <iframe className="mail-frame" sandbox="" srcDoc={html} title={title} />;
}

function Templates() {
  const client = useClient();
  const templates = useQuery({ queryKey: ['templates'], queryFn: () => client.admin.email.templates.list() });
  const [selected, setSelected] = useState<string>();
  const [newName, setNewName] = useState('');
  const current = templates.data?.find((t) => t.name === selected);
  return (
    <div className="split">
      <aside className="stack">
        {templates.isPending ? (
          <Loading what="templates" />
        ) : templates.error ? (
          <ErrorMessage error={templates.error} />
        ) : (
          <ul className="list">
            {templates.data.map((t) => (
              <li key={t.name}>
                <button type="button" className={t.name === selected ? 'link active' : 'link'} onClick={() => setSelected(t.name)}>
                  {t.name}
                </button>{' '}
                {t.builtIn && <span className="muted small">{t.overridden ? 'built-in, changed' : 'built-in'}</span>}
              </li>
            ))}
          </ul>
        )}
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            setSelected(newName.trim());
            setNewName('');
          }}
        >
          <label>
            New template
            <input required value={newName} onChange={(e) => setNewName(e.target.value)} placeholder="welcome" />
          </label>
          <button type="submit">Add</button>
        </form>
      </aside>
      <section>
        {selected ? (
          <TemplateEditor key={selected} name={selected} template={current} />
        ) : (
          <p className="muted">Choose a template to edit it.</p>
        )}
      </section>
    </div>
  );
}

function TemplateEditor({ name, template }: { name: string; template?: EmailTemplate }) {
  const client = useClient();
  const qc = useQueryClient();
  const [subject, setSubject] = useState(template?.subject ?? 'Hello {{name}}');
  const [html, setHtml] = useState(template?.html ?? '<p>Hello {{name}},</p>\n<p>Welcome!</p>');
  const [text, setText] = useState(template?.text ?? 'Hello {{name}},\n\nWelcome!');
  const [data, setData] = useState('{\n  "name": "Ada"\n}');
  const [draft, setDraft] = useState({ subject, html, text, data });
  // Live preview: re-rendered by the api 400 ms after the last keystroke.
  useEffect(() => {
    const t = setTimeout(() => setDraft({ subject, html, text, data }), 400);
    return () => clearTimeout(t);
  }, [subject, html, text, data]);
  const preview = useQuery({
    queryKey: ['template-preview', name, draft],
    queryFn: () => {
      const parsed = parseJson(draft.data, 'The sample data') ?? {};
      return client.admin.email.templates.preview(name, { data: parsed as Record<string, string>, draft: { subject: draft.subject, html: draft.html, text: draft.text } });
    },
    placeholderData: (prev) => prev,
    retry: false,
  });
  const save = useMutation({
    mutationFn: () => client.admin.email.templates.put(name, { subject, html, text }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['templates'] }),
  });
  const reset = useMutation({
    mutationFn: () => client.admin.email.templates.delete(name),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['templates'] }),
  });
  return (
    <div className="split even">
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <h2>{name}</h2>
        <label>
          Subject
          <input value={subject} onChange={(e) => setSubject(e.target.value)} />
        </label>
        <label>
          HTML
          <textarea className="mono" rows={10} value={html} onChange={(e) => setHtml(e.target.value)} spellCheck={false} />
        </label>
        <label>
          Text
          <textarea className="mono" rows={6} value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <label>
          Sample data (JSON, preview only)
          <textarea className="mono" rows={3} value={data} onChange={(e) => setData(e.target.value)} spellCheck={false} />
        </label>
        <ErrorMessage error={save.error ?? reset.error} title="Not saved" />
        {save.isSuccess && (
          <p className="ok" role="status">
            Saved.
          </p>
        )}
        <div className="row">
          <button type="submit" className="primary" disabled={save.isPending}>
            Save template
          </button>
          {template?.overridden && (
            <button type="button" onClick={() => reset.mutate()}>
              {template.builtIn ? 'Restore the built-in version' : 'Delete template'}
            </button>
          )}
        </div>
      </form>
      <section className="stack" aria-label="Preview" data-testid="template-preview">
        <h3>Preview</h3>
        {preview.error ? (
          <ErrorMessage error={preview.error} title="Preview failed" />
        ) : preview.data ? (
          <>
            <p>
              <strong>{preview.data.subject}</strong>
            </p>
            {preview.data.missing.length > 0 && <p className="warn small">No value for: {preview.data.missing.join(', ')}</p>}
            <HtmlFrame html={preview.data.html} title="HTML preview" />
            <pre className="preview-text">{preview.data.text}</pre>
          </>
        ) : (
          <Loading what="preview" />
        )}
      </section>
    </div>
  );
}
