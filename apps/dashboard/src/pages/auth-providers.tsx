import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { AuthProviderInput } from '@selfbaas/sdk';
import { useClient } from '../session.js';
import { DataTable, ErrorMessage, formatDate, Loading } from '../ui.js';

const KINDS = ['oidc', 'google', 'microsoft', 'apple', 'github'] as const;
type Kind = (typeof KINDS)[number];

/** Sign-in providers (docs/auth.md, "Sign in with a provider"): list, add or replace, delete. */
export function AuthProvidersPage() {
  const client = useClient();
  const qc = useQueryClient();
  const providers = useQuery({ queryKey: ['auth-providers'], queryFn: () => client.admin.authProviders.list() });
  const [id, setId] = useState('');
  const [kind, setKind] = useState<Kind>('oidc');
  const [issuer, setIssuer] = useState('');
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [tenant, setTenant] = useState('');
  const save = useMutation({
    mutationFn: () => {
      const settings: AuthProviderInput = {
        kind,
        clientId,
        ...(issuer ? { issuer } : {}),
        ...(clientSecret ? { clientSecret } : {}),
        ...(kind === 'microsoft' && tenant ? { options: { tenant } } : {}),
      };
      return client.admin.authProviders.put(id, settings);
    },
    onSuccess: () => {
      setClientSecret('');
      void qc.invalidateQueries({ queryKey: ['auth-providers'] });
    },
  });
  const remove = useMutation({
    mutationFn: (providerId: string) => client.admin.authProviders.delete(providerId),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['auth-providers'] }),
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }

  return (
    <div className="page">
      <h1>Sign-in providers</h1>
      <p className="muted">
        Register <code>{`${location.origin}/v1/auth/oauth/<id>/callback`}</code> as the redirect URI at the provider. Client secrets are stored encrypted and never shown again.
      </p>
      <form className="row" onSubmit={submit} aria-label="Provider">
        <label>
          Id
          <input required pattern="[a-z][a-z0-9-]{0,39}" value={id} onChange={(e) => setId(e.target.value)} placeholder="e.g. google" />
        </label>
        <label>
          Kind
          <select value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          Issuer URL
          <input value={issuer} onChange={(e) => setIssuer(e.target.value)} placeholder={kind === 'oidc' ? 'https://sso.example.com/realms/main' : 'preset'} />
        </label>
        {kind === 'microsoft' && (
          <label>
            Tenant
            <input value={tenant} onChange={(e) => setTenant(e.target.value)} placeholder="contoso.onmicrosoft.com" />
          </label>
        )}
        <label>
          Client id
          <input required value={clientId} onChange={(e) => setClientId(e.target.value)} />
        </label>
        <label>
          Client secret
          <input type="password" autoComplete="off" value={clientSecret} onChange={(e) => setClientSecret(e.target.value)} placeholder="unchanged if empty" />
        </label>
        <button type="submit" className="primary" disabled={save.isPending}>
          Save provider
        </button>
      </form>
      <ErrorMessage error={save.error} title="Could not save the provider" />
      <ErrorMessage error={remove.error} title="Could not delete the provider" />
      {providers.isPending ? (
        <Loading what="providers" />
      ) : providers.error ? (
        <ErrorMessage error={providers.error} />
      ) : (
        <DataTable head={['Id', 'Kind', 'Issuer', 'Client id', 'Secret', 'Updated', '']} empty={providers.data.length === 0 && <>No providers yet.</>}>
          {providers.data.map((p) => (
            <tr key={p.id}>
              <td>{p.id}</td>
              <td>{p.kind}</td>
              <td>{p.issuer ?? 'preset'}</td>
              <td>
                <code>{p.clientId}</code>
              </td>
              <td>{p.hasClientSecret ? 'stored' : '—'}</td>
              <td>{formatDate(p.updatedAt)}</td>
              <td>
                <button
                  type="button"
                  className="danger"
                  onClick={() => {
                    if (confirm(`Delete the provider "${p.id}"? Its users can no longer sign in with it.`)) remove.mutate(p.id);
                  }}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </div>
  );
}
