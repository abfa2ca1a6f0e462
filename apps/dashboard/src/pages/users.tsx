import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { AdminUser as User } from '@selfbaas/sdk';
import { useClient } from '../session.js';
import { DataTable, Dialog, ErrorMessage, formatDate, Loading, Pager } from '../ui.js';

export function UsersPage() {
  const client = useClient();
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const [selected, setSelected] = useState<User>();
  const cursor = cursors[cursors.length - 1];
  const users = useQuery({
    queryKey: ['users', applied, cursor],
    queryFn: () => client.admin.users.list({ search: applied || undefined, cursor, limit: 20 }),
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setApplied(search.trim());
    setCursors([]);
  }

  return (
    <div className="page">
      <h1>Users</h1>
      <form className="row" role="search" onSubmit={submit}>
        <label>
          Search by email
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="part of an email" />
        </label>
        <button type="submit">Search</button>
      </form>
      {users.isPending ? (
        <Loading what="users" />
      ) : users.error ? (
        <ErrorMessage error={users.error} />
      ) : (
        <>
          <DataTable head={['Email', 'Roles', 'Verified', 'Status', 'Created']} empty={users.data.items.length === 0 && <>No users{applied ? ` matching “${applied}”` : ''}.</>}>
            {users.data.items.map((u) => (
              <tr key={u.id}>
                <td>
                  <button type="button" className="link" onClick={() => setSelected(u)}>
                    {u.email}
                  </button>
                </td>
                <td>{u.roles.join(', ') || <span className="muted">none</span>}</td>
                <td>{u.emailVerified ? 'yes' : 'no'}</td>
                <td>{u.disabled ? <span className="badge badge-failed">disabled</span> : 'active'}</td>
                <td>{formatDate(u.createdAt)}</td>
              </tr>
            ))}
          </DataTable>
          <Pager cursors={cursors} nextCursor={users.data.nextCursor} onChange={setCursors} />
        </>
      )}
      <Dialog open={selected !== undefined} title="User" onClose={() => setSelected(undefined)}>
        {selected && <UserDetail user={selected} onDone={() => setSelected(undefined)} />}
      </Dialog>
    </div>
  );
}

function UserDetail({ user, onDone }: { user: User; onDone: () => void }) {
  const client = useClient();
  const qc = useQueryClient();
  const [current, setCurrent] = useState(user);
  const [roles, setRoles] = useState(user.roles.join(', '));
  const [notice, setNotice] = useState<string>();
  const refresh = () => void qc.invalidateQueries({ queryKey: ['users'] });
  const update = useMutation({
    mutationFn: (patch: { roles?: string[]; disabled?: boolean; emailVerified?: boolean }) => client.admin.users.update(user.id, patch),
    onSuccess: (u) => {
      setCurrent(u);
      setNotice('Saved.');
      refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: () => client.admin.users.revokeSessions(user.id),
    onSuccess: (r) => setNotice(`${r.revoked} session(s) ended.`),
  });
  const remove = useMutation({
    mutationFn: () => client.admin.users.delete(user.id),
    onSuccess: () => {
      refresh();
      onDone();
    },
  });
  const error = update.error ?? revoke.error ?? remove.error;
  return (
    <div className="stack">
      <dl className="props">
        <dt>Email</dt>
        <dd>{current.email}</dd>
        <dt>Id</dt>
        <dd>
          <code>{current.id}</code>
        </dd>
        <dt>Created</dt>
        <dd>{formatDate(current.createdAt)}</dd>
        <dt>Email verified</dt>
        <dd>
          {current.emailVerified ? 'yes' : 'no'}{' '}
          {!current.emailVerified && (
            <button type="button" onClick={() => update.mutate({ emailVerified: true })}>
              Mark verified
            </button>
          )}
        </dd>
        <dt>Status</dt>
        <dd>{current.disabled ? 'disabled' : 'active'}</dd>
      </dl>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          update.mutate({ roles: roles.split(',').map((r) => r.trim()).filter(Boolean) });
        }}
      >
        <label>
          Roles (comma-separated)
          <input value={roles} onChange={(e) => setRoles(e.target.value)} placeholder="admin, editor" />
        </label>
        <button type="submit" className="primary" disabled={update.isPending}>
          Save roles
        </button>
      </form>
      <ErrorMessage error={error} title="The change failed" />
      {notice && (
        <p role="status" className="ok">
          {notice}
        </p>
      )}
      <div className="row">
        <button type="button" onClick={() => update.mutate({ disabled: !current.disabled })}>
          {current.disabled ? 'Enable' : 'Disable'}
        </button>
        <button type="button" onClick={() => revoke.mutate()}>
          End all sessions
        </button>
        <button
          type="button"
          className="danger"
          onClick={() => {
            if (confirm(`Delete ${current.email}? This cannot be undone.`)) remove.mutate();
          }}
        >
          Delete user
        </button>
      </div>
    </div>
  );
}
