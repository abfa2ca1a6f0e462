import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { FINAL_RUN_STATUSES, type Run } from '@selfbaas/sdk';
import { useClient } from '../session.js';
import { DataTable, Dialog, ErrorMessage, formatDate, Json, Loading, StatusBadge } from '../ui.js';


export function RunsTable({ runs, showFunction }: { runs: Run[]; showFunction?: boolean }) {
  const [open, setOpen] = useState<string>();
  return (
    <>
      <DataTable head={['Run', ...(showFunction ? ['Function'] : []), 'Status', 'Trigger', 'Attempts', 'Duration', 'Started']} empty={runs.length === 0 && <>No runs yet.</>}>
        {runs.map((r) => (
          <tr key={r.id}>
            <td>
              <button type="button" className="link" onClick={() => setOpen(r.id)}>
                <code>{r.id.slice(0, 8)}</code>
              </button>
            </td>
            {showFunction && <td>{r.function}</td>}
            <td>
              <StatusBadge status={r.status} />
            </td>
            <td>{r.trigger}</td>
            <td>{r.attempts}</td>
            <td>{r.durationMs === null ? '—' : `${r.durationMs} ms`}</td>
            <td>{formatDate(r.startedAt ?? r.createdAt)}</td>
          </tr>
        ))}
      </DataTable>
      <Dialog open={open !== undefined} title="Run" wide onClose={() => setOpen(undefined)}>
        {open && <RunDetail id={open} />}
      </Dialog>
    </>
  );
}

/** One run: status, logs, result or error; failed and dead runs can be replayed. */
export function RunDetail({ id }: { id: string }) {
  const client = useClient();
  const qc = useQueryClient();
  const run = useQuery({
    queryKey: ['run', id],
    queryFn: () => client.functions.getRun(id),
    refetchInterval: (q) => (q.state.data && FINAL_RUN_STATUSES.includes(q.state.data.status) ? false : 1000),
  });
  const retry = useMutation({
    mutationFn: () => client.admin.functions.retryRun(id),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['runs'] }),
  });
  if (run.isPending) return <Loading what="run" />;
  if (run.error) return <ErrorMessage error={run.error} />;
  const r = run.data;
  return (
    <div className="stack" data-testid="run-detail">
      <dl className="props">
        <dt>Id</dt>
        <dd>
          <code>{r.id}</code>
        </dd>
        <dt>Function</dt>
        <dd>
          {r.function} v{r.version}
        </dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={r.status} /> after {r.attempts} attempt(s)
        </dd>
        <dt>Duration</dt>
        <dd>{r.durationMs === null ? '—' : `${r.durationMs} ms`}</dd>
        <dt>Trigger</dt>
        <dd>{r.trigger}</dd>
        <dt>Finished</dt>
        <dd>{formatDate(r.finishedAt)}</dd>
      </dl>
      <h3>Logs</h3>
      {r.logs.length === 0 ? (
        <p className="muted">No log lines.</p>
      ) : (
        <pre className="logs" data-testid="run-logs">
          {r.logs.map((l) => `${l.at.slice(11, 23)} ${l.level.padEnd(5)} ${l.message}`).join('\n')}
        </pre>
      )}
      {r.result !== undefined && (
        <>
          <h3>Result</h3>
          <Json value={r.result} />
        </>
      )}
      {r.error !== undefined && r.error !== null && (
        <>
          <h3>Error</h3>
          <Json value={r.error} />
        </>
      )}
      {(r.status === 'dead' || r.status === 'failed' || r.status === 'timed_out') && (
        <div className="row">
          <button type="button" onClick={() => retry.mutate()} disabled={retry.isPending}>
            Retry with the same event
          </button>
          {retry.isSuccess && <span className="ok">Replay queued.</span>}
        </div>
      )}
      <ErrorMessage error={retry.error} title="Retry failed" />
    </div>
  );
}
