import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useClient } from '../session.js';
import { DataTable, ErrorMessage, formatDate, Loading } from '../ui.js';

export function ApiKeysPage() {
  const client = useClient();
  const qc = useQueryClient();
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => client.admin.apiKeys.list() });
  const [name, setName] = useState('');
  const [created, setCreated] = useState<string>();
  const create = useMutation({
    mutationFn: (n: string) => client.admin.apiKeys.create(n),
    onSuccess: (k) => {
      setCreated(k.key);
      setName('');
      void qc.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => client.admin.apiKeys.revoke(id),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['api-keys'] }),
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setCreated(undefined);
    create.mutate(name);
  }

  return (
    <div className="page">
      <h1>API keys</h1>
      <p className="muted">Service keys have full access (send them as <code>x-api-key</code>). Keep them on servers, never in an app.</p>
      <form className="row" onSubmit={submit}>
        <label>
          Name
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. billing server" />
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create key
        </button>
      </form>
      <ErrorMessage error={create.error} title="Could not create the key" />
      {created && (
        <div className="notice" role="status">
          <p>
            <strong>Copy this key now:</strong> it is shown only once.
          </p>
          <code className="secret" data-testid="new-key">
            {created}
          </code>{' '}
          <button type="button" onClick={() => void navigator.clipboard?.writeText(created)}>
            Copy
          </button>
        </div>
      )}
      <ErrorMessage error={revoke.error} title="Could not revoke the key" />
      {keys.isPending ? (
        <Loading what="keys" />
      ) : keys.error ? (
        <ErrorMessage error={keys.error} />
      ) : (
        <DataTable head={['Name', 'Prefix', 'Created', 'Last used', 'Status', '']} empty={keys.data.length === 0 && <>No keys yet.</>}>
          {keys.data.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td>
                <code>{k.prefix}…</code>
              </td>
              <td>{formatDate(k.createdAt)}</td>
              <td>{formatDate(k.lastUsedAt)}</td>
              <td>{k.revokedAt ? `revoked ${formatDate(k.revokedAt)}` : 'active'}</td>
              <td>
                {!k.revokedAt && (
                  <button
                    type="button"
                    className="danger"
                    onClick={() => {
                      if (confirm(`Revoke the key "${k.name}"? Servers using it stop working at once.`)) revoke.mutate(k.id);
                    }}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </div>
  );
}
