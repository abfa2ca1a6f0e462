import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import type { CheckStatus } from '../api/types.js';
import { useClient } from '../session.js';
import { DataTable, ErrorMessage, formatDate, Loading } from '../ui.js';
import { LineChart } from './chart.js';

function Health({ name, check }: { name: string; check: CheckStatus }) {
  return (
    <div className={`tile ${check.status === 'up' ? 'tile-ok' : 'tile-bad'}`} data-testid={`health-${name}`}>
      <div className="tile-label">{name}</div>
      <div className="tile-value">{check.status === 'up' ? 'up' : 'down'}</div>
      <div className="small muted">{check.status === 'up' ? `${check.latencyMs} ms` : check.error}</div>
    </div>
  );
}

function Tile({ label, value, bad }: { label: string; value: number | string; bad?: boolean }) {
  return (
    <div className={`tile ${bad ? 'tile-bad' : ''}`}>
      <div className="tile-label">{label}</div>
      <div className="tile-value">{value}</div>
    </div>
  );
}

/** Request rate: the api's request counter sampled on every refresh, as requests per second. */
function useRequestRate(total: number | undefined, at: string | undefined) {
  const last = useRef<{ total: number; t: number }>(undefined);
  const [points, setPoints] = useState<{ t: number; rate: number }[]>([]);
  useEffect(() => {
    if (total === undefined || !at) return;
    const t = Date.parse(at) / 1000;
    const prev = last.current;
    last.current = { total, t };
    if (prev && t > prev.t) {
      const rate = Math.max(0, (total - prev.total) / (t - prev.t));
      setPoints((p) => [...p.slice(-59), { t, rate: Math.round(rate * 100) / 100 }]);
    }
  }, [total, at]);
  return points;
}

export function OverviewPage() {
  const client = useClient();
  const overview = useQuery({ queryKey: ['overview'], queryFn: () => client.admin.overview(), refetchInterval: 5_000 });
  const rate = useRequestRate(overview.data?.requests.total, overview.data?.generatedAt);
  const o = overview.data;
  const runs24 = o?.runs.last24h ?? {};
  const failedRuns = (runs24['failed'] ?? 0) + (runs24['dead'] ?? 0) + (runs24['timed_out'] ?? 0);
  return (
    <div className="page">
      <h1>Overview</h1>
      <section aria-label="Health">
        <h2>Health</h2>
        {overview.error ? (
          <ErrorMessage error={overview.error} />
        ) : overview.data ? (
          <div className="tiles">
            <Health name="postgres" check={overview.data.health.checks.postgres} />
            <Health name="redis" check={overview.data.health.checks.redis} />
            <Health name="storage" check={overview.data.health.checks.storage} />
          </div>
        ) : (
          <Loading what="health" />
        )}
      </section>
      {!o ? null : (
        <>
          <section aria-label="Counts">
            <div className="tiles">
              <Tile label="users" value={o.counts.users} />
              <Tile label="collections" value={o.counts.collections} />
              <Tile label="functions" value={o.counts.functions} />
              <Tile label="files" value={o.counts.files} />
              <Tile label="runs (24 h)" value={Object.values(runs24).reduce((a, b) => a + b, 0)} />
              <Tile label="failed runs (24 h)" value={failedRuns} bad={failedRuns > 0} />
              <Tile label="emails failed (24 h)" value={o.email.last24h['failed'] ?? 0} bad={(o.email.last24h['failed'] ?? 0) > 0} />
              <Tile label="api 5xx (since start)" value={o.requests.errors5xx} bad={o.requests.errors5xx > 0} />
            </div>
          </section>
          <div className="charts">
            <section className="card">
              <h2>Function runs per hour (24 h)</h2>
              <LineChart
                label="Function runs per hour"
                x={o.runs.hourly.map((h) => Date.parse(h.hour) / 1000)}
                series={[
                  { name: 'succeeded', values: o.runs.hourly.map((h) => h.succeeded), color: '#16a34a' },
                  { name: 'failed', values: o.runs.hourly.map((h) => h.failed), color: '#dc2626' },
                ]}
              />
            </section>
            <section className="card">
              <h2>API requests per second (live)</h2>
              {rate.length < 2 ? (
                <p className="muted small">Sampling every 5 s…</p>
              ) : (
                <LineChart label="API requests per second" x={rate.map((p) => p.t)} series={[{ name: 'req/s', values: rate.map((p) => p.rate), color: '#2563eb' }]} />
              )}
            </section>
          </div>
          <section>
            <h2>Queues</h2>
            <DataTable head={['Queue', 'Waiting', 'Active', 'Delayed', 'Failed']}>
              {Object.entries(o.queues).map(([name, q]) => (
                <tr key={name}>
                  <td>{name}</td>
                  <td>{q.waiting}</td>
                  <td>{q.active}</td>
                  <td>{q.delayed}</td>
                  <td>{q.failed}</td>
                </tr>
              ))}
            </DataTable>
          </section>
          <section>
            <h2>Recent errors</h2>
            {o.recentErrors.length === 0 ? (
              <p className="muted">No failed runs or emails recently.</p>
            ) : (
              <ul className="errors-list">
                {o.recentErrors.map((e, i) => (
                  <li key={i}>
                    <span className="muted small">{formatDate(e.at)}</span> <strong>{e.source}</strong> {e.message}
                  </li>
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </div>
  );
}
