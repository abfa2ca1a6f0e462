import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import type { CreateCollectionInput } from '@selfbaas/sdk';
import { type CollectionInput, ruleText } from '../api/types.js';
import { useClient } from '../session.js';
import { DataTable, Dialog, ErrorMessage, formatDate, Loading } from '../ui.js';
import { SchemaEditor } from './schema-editor.js';

export function CollectionsPage() {
  const client = useClient();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const list = useQuery({ queryKey: ['collections'], queryFn: () => client.admin.collections.list() });
  const create = useMutation({
    mutationFn: (input: CollectionInput) => client.admin.collections.create(input as CreateCollectionInput),
    onSuccess: (c) => {
      void qc.invalidateQueries({ queryKey: ['collections'] });
      setCreating(false);
      void navigate({ to: '/collections/$name', params: { name: c.name } });
    },
  });
  return (
    <div className="page">
      <div className="page-head">
        <h1>Collections</h1>
        <button
          type="button"
          className="primary"
          onClick={() => {
            create.reset();
            setCreating(true);
          }}
        >
          New collection
        </button>
      </div>
      {list.isPending ? (
        <Loading what="collections" />
      ) : list.error ? (
        <ErrorMessage error={list.error} />
      ) : (
        <DataTable head={['Name', 'Fields', 'Rules (list / read / create / update / delete)', 'Updated']} empty={list.data.length === 0 && <>No collections yet.</>}>
          {list.data.map((c) => (
            <tr key={c.name}>
              <td>
                <Link to="/collections/$name" params={{ name: c.name }}>
                  {c.name}
                </Link>
              </td>
              <td>{c.fields.map((f) => f.name).join(', ') || <span className="muted">none</span>}</td>
              <td className="small">{[c.rules.list, c.rules.read, c.rules.create, c.rules.update, c.rules.delete].map(ruleText).join(' / ')}</td>
              <td>{formatDate(c.updatedAt)}</td>
            </tr>
          ))}
        </DataTable>
      )}
      <Dialog open={creating} title="New collection" wide onClose={() => setCreating(false)}>
        <SchemaEditor isNew error={create.error} busy={create.isPending} onSubmit={(input) => create.mutate(input)} />
      </Dialog>
    </div>
  );
}
