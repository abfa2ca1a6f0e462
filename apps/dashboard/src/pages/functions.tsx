import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import type { Trigger } from '../api/types.js';
import { useClient } from '../session.js';
import { DataTable, ErrorMessage, formatDate, Loading } from '../ui.js';
import { RunsTable } from './runs.js';

export function triggerLabel(t: Trigger): string {
  switch (t.type) {
    case 'http':
      return `http (${t.access ?? 'authenticated'})`;
    case 'db':
      return `db ${t.collection}: ${t.events.join(', ')}`;
    case 'storage':
      return `storage ${t.bucket}: ${t.events.join(', ')}`;
    case 'auth':
      return 'auth signup';
    case 'schedule':
      return `schedule ${t.cron}${t.timezone ? ` (${t.timezone})` : ''}`;
  }
}

export function FunctionsPage() {
  const client = useClient();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const list = useQuery({ queryKey: ['functions'], queryFn: () => client.admin.functions.list({ limit: 100 }) });
  const runs = useQuery({ queryKey: ['runs', 'all'], queryFn: () => client.functions.runs(undefined, { limit: 20 }), refetchInterval: 5000 });

  function submit(e: FormEvent) {
    e.preventDefault();
    void navigate({ to: '/functions/$name', params: { name: name.trim() } });
  }

  return (
    <div className="page">
      <h1>Functions</h1>
      <form className="row" onSubmit={submit}>
        <label>
          New function name
          <input name="function-name" required pattern="[a-z][a-z0-9_\-]{0,62}" title="lower-case letters, digits, _ or -, starting with a letter" value={name} onChange={(e) => setName(e.target.value)} placeholder="send-welcome" />
        </label>
        <button type="submit" className="primary">
          Create / open
        </button>
      </form>
      {list.isPending ? (
        <Loading what="functions" />
      ) : list.error ? (
        <ErrorMessage error={list.error} />
      ) : (
        <DataTable head={['Name', 'Version', 'Triggers', 'Limits', 'Deployed']} empty={list.data.items.length === 0 && <>No functions yet.</>}>
          {list.data.items.map((f) => (
            <tr key={f.name}>
              <td>
                <Link to="/functions/$name" params={{ name: f.name }}>
                  {f.name}
                </Link>
              </td>
              <td>v{f.version}</td>
              <td className="small">{f.triggers.map(triggerLabel).join('; ')}</td>
              <td className="small">
                {f.timeoutMs} ms · {f.memoryMb} MB · {f.retries} retries
              </td>
              <td>{formatDate(f.updatedAt)}</td>
            </tr>
          ))}
        </DataTable>
      )}
      <h2>Recent runs</h2>
      {runs.error ? <ErrorMessage error={runs.error} /> : runs.data ? <RunsTable runs={runs.data.items} showFunction /> : <Loading what="runs" />}
    </div>
  );
}
