import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useClient } from '../session.js';
import { DataTable, ErrorMessage, formatDate, Loading } from '../ui.js';

const SCOPES = ['collections', 'storage', 'functions', 'read-only'] as const;
type Scope = (typeof SCOPES)[number];

export function ApiKeysPage() {
  const client = useClient();
  const qc = useQueryClient();
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => client.admin.apiKeys.list() });
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>([]);
  const [expires, setExpires] = useState('');
  const [created, setCreated] = useState<string>();
  const create = useMutation({
    mutationFn: (n: string) => client.admin.apiKeys.create(n, { scopes, ...(expires ? { expiresAt: new Date(expires).toISOString() } : {}) }),
    onSuccess: (k) => {
      setCreated(k.key);
      setName('');
      setScopes([]);
      setExpires('');
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
      <p className="muted">
        Service keys have full access unless scoped (send them as <code>x-api-key</code>). Keep them on servers, never in an app.
      </p>
      <form className="row" onSubmit={submit}>
        <label>
          Name
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. billing server" />
        </label>
        <fieldset className="row">
          <legend>Scopes (none = full access)</legend>
          {SCOPES.map((s) => (
            <label key={s} className="inline">
              <input
                type="checkbox"
                checked={scopes.includes(s)}
                onChange={(e) => setScopes(e.target.checked ? [...scopes, s] : scopes.filter((x) => x !== s))}
              />{' '}
              {s}
            </label>
          ))}
        </fieldset>
        <label>
          Expires
          <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
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
        <DataTable head={['Name', 'Prefix', 'Scopes', 'Created', 'Last used', 'Expires', 'Status', '']} empty={keys.data.length === 0 && <>No keys yet.</>}>
          {keys.data.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td>
                <code>{k.prefix}…</code>
              </td>
              <td>{k.scopes.length ? k.scopes.join(', ') : 'full access'}</td>
              <td>{formatDate(k.createdAt)}</td>
              <td>{formatDate(k.lastUsedAt)}</td>
              <td>{k.expiresAt ? formatDate(k.expiresAt) : 'never'}</td>
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
