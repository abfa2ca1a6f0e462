import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, useNavigate } from '@tanstack/react-router';
import { type FormEvent, lazy, Suspense, useMemo, useState } from 'react';
import { BaasError, type DeployFunctionInput as DeployInput, type FunctionInfo, type Invocation, type RunStatus } from '@selfbaas/sdk';
import type { Trigger } from '../api/types.js';
import { compileLocation } from '../editor/compile-error.js';
import { useClient } from '../session.js';
import { detailsByPath, ErrorMessage, formatBytes, Json, Loading, parseJson, StatusBadge } from '../ui.js';
import { triggerLabel } from './functions.js';
import { RunDetail, RunsTable } from './runs.js';

const CodeEditor = lazy(() => import('../editor/code-editor.js'));
const route = getRouteApi('/functions/$name');

const STARTER = `export default async (event, ctx) => {
  ctx.log('called with', event.payload);
  return { hello: event.payload?.name ?? 'world' };
};
`;

export function FunctionPage() {
  const { name } = route.useParams();
  const client = useClient();
  const [tab, setTab] = useState<'code' | 'runs' | 'invoke' | 'usage'>('code');
  const fn = useQuery({
    queryKey: ['function', name],
    queryFn: async () => {
      try {
        return await client.admin.functions.get(name);
      } catch (err) {
        if (err instanceof BaasError && err.statusCode === 404) return null; // not deployed yet
        throw err;
      }
    },
  });
  return (
    <div className="page">
      <h1>
        Function <code>{name}</code> {fn.data && <span className="muted small">v{fn.data.version}</span>}
      </h1>
      <div className="tabs" role="tablist">
        {(['code', 'runs', 'invoke', 'usage'] as const).map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} className={tab === t ? 'active' : ''} onClick={() => setTab(t)} disabled={t !== 'code' && !fn.data}>
            {t === 'code' ? 'Code & settings' : t === 'runs' ? 'Runs' : t === 'invoke' ? 'Invoke' : 'Usage'}
          </button>
        ))}
      </div>
      {fn.isPending ? (
        <Loading what="function" />
      ) : fn.error ? (
        <ErrorMessage error={fn.error} />
      ) : tab === 'code' ? (
        <Editor key={name} name={name} fn={fn.data ?? undefined} />
      ) : tab === 'runs' ? (
        <Runs name={name} />
      ) : tab === 'usage' ? (
        <Usage name={name} />
      ) : (
        <Invoke name={name} />
      )}
    </div>
  );
}

function Editor({ name, fn }: { name: string; fn?: FunctionInfo }) {
  const client = useClient();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [source, setSource] = useState(fn?.source ?? STARTER);
  const [language, setLanguage] = useState<'ts' | 'js'>(fn?.language === 'js' ? 'js' : 'ts');
  const [triggers, setTriggers] = useState(JSON.stringify(fn?.triggers ?? [{ type: 'http' }], null, 2));
  const [timeoutMs, setTimeoutMs] = useState(String(fn?.timeoutMs ?? 10000));
  const [memoryMb, setMemoryMb] = useState(String(fn?.memoryMb ?? 128));
  const [retries, setRetries] = useState(String(fn?.retries ?? 2));
  const [concurrency, setConcurrency] = useState(String(fn?.concurrency ?? 10));
  const [changeSecrets, setChangeSecrets] = useState(false);
  const [secrets, setSecrets] = useState('');
  const [localError, setLocalError] = useState<unknown>();
  const [deployed, setDeployed] = useState(false);
  const deploy = useMutation({
    mutationFn: (input: DeployInput) => client.admin.functions.deploy(name, input),
    onSuccess: (f) => {
      qc.setQueryData(['function', name], { ...f, source });
      void qc.invalidateQueries({ queryKey: ['functions'] });
      setDeployed(true);
    },
  });
  const remove = useMutation({
    mutationFn: () => client.admin.functions.delete(name),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['functions'] });
      void navigate({ to: '/functions' });
    },
  });
  const compileError = useMemo(() => {
    if (!(deploy.error instanceof BaasError) || deploy.error.code !== 'COMPILE_FAILED') return undefined;
    const message = detailsByPath(deploy.error).get('source') ?? deploy.error.message;
    return compileLocation(message) ?? { line: 1, column: 1, message };
  }, [deploy.error]);
  const parsedTriggers = useMemo(() => {
    try {
      return JSON.parse(triggers) as Trigger[];
    } catch {
      return undefined;
    }
  }, [triggers]);

  function submit(e: FormEvent) {
    e.preventDefault();
    setDeployed(false);
    try {
      const t = parseJson(triggers, 'Triggers');
      if (t !== undefined && !Array.isArray(t)) throw new Error('Triggers must be a JSON array, like [{"type": "http"}]');
      const input: DeployInput = {
        source,
        language,
        triggers: (t ?? []) as Trigger[],
        timeoutMs: Number(timeoutMs),
        memoryMb: Number(memoryMb),
        retries: Number(retries),
        concurrency: Number(concurrency),
      };
      if (changeSecrets) {
        const entries = secrets
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .map((l) => {
            const eq = l.indexOf('=');
            if (eq < 1) throw new Error(`Secret line "${l.split('=')[0]}…" must be NAME=value`);
            return [l.slice(0, eq).trim(), l.slice(eq + 1)] as const;
          });
        input.secrets = Object.fromEntries(entries);
      }
      setLocalError(undefined);
      deploy.mutate(input);
    } catch (err) {
      setLocalError(err);
    }
  }

  const schedules = (parsedTriggers ?? []).filter((t) => t.type === 'schedule');
  return (
    <form className="stack" onSubmit={submit}>
      <div className="row">
        <label>
          Language
          <select value={language} onChange={(e) => setLanguage(e.target.value as 'ts' | 'js')}>
            <option value="ts">TypeScript</option>
            <option value="js">JavaScript</option>
          </select>
        </label>
        <span className="muted small grow">Esc then Tab leaves the editor.</span>
        <button type="submit" className="primary" disabled={deploy.isPending}>
          {deploy.isPending ? 'Deploying…' : 'Deploy'}
        </button>
      </div>
      <Suspense fallback={<Loading what="editor" />}>
        <CodeEditor value={source} onChange={setSource} error={compileError} label={`Source of ${name}`} />
      </Suspense>
      {compileError && (
        <div className="error" role="alert" data-testid="compile-error">
          <strong>Does not compile</strong> (line {compileError.line}, column {compileError.column}): {compileError.message}
        </div>
      )}
      {!compileError && <ErrorMessage error={localError ?? deploy.error} title="Not deployed" />}
      {deployed && (
        <p className="ok" role="status">
          Deployed version {deploy.data?.version}.
        </p>
      )}
      <fieldset>
        <legend>Triggers</legend>
        <p className="muted small">
          JSON array: <code>{'{"type":"http","access":"public"}'}</code>, <code>{'{"type":"db","collection":"posts","events":["create"]}'}</code>,{' '}
          <code>{'{"type":"storage","bucket":"avatars","events":["upload"]}'}</code>, <code>{'{"type":"auth","events":["signup"]}'}</code>,{' '}
          <code>{'{"type":"schedule","cron":"*/5 * * * *","timezone":"Europe/Paris"}'}</code>
        </p>
        <textarea name="triggers" className="mono" rows={5} spellCheck={false} value={triggers} onChange={(e) => setTriggers(e.target.value)} aria-label="Triggers (JSON)" />
        {[...detailsByPath(deploy.error).entries()]
          .filter(([p]) => p.startsWith('triggers'))
          .map(([p, m]) => (
            <span key={p} className="field-error">
              {p}: {m}
            </span>
          ))}
        <p className="small">
          {parsedTriggers ? parsedTriggers.map((t) => (t && typeof t === 'object' && 'type' in t ? triggerLabel(t) : '?')).join(' · ') || 'no triggers' : 'not valid JSON yet'}
        </p>
        <h3>Schedules</h3>
        {schedules.length === 0 ? (
          <p className="muted small">No schedule: add a trigger of type schedule.</p>
        ) : (
          <ul>
            {schedules.map((s, i) => (
              <li key={i}>{triggerLabel(s)}</li>
            ))}
          </ul>
        )}
      </fieldset>
      <fieldset>
        <legend>Limits</legend>
        <div className="row">
          <label>
            Timeout (ms)
            <input type="number" value={timeoutMs} onChange={(e) => setTimeoutMs(e.target.value)} />
          </label>
          <label>
            Memory (MB)
            <input type="number" value={memoryMb} onChange={(e) => setMemoryMb(e.target.value)} />
          </label>
          <label>
            Retries
            <input type="number" value={retries} onChange={(e) => setRetries(e.target.value)} />
          </label>
          <label>
            Concurrency
            <input type="number" value={concurrency} onChange={(e) => setConcurrency(e.target.value)} />
          </label>
        </div>
      </fieldset>
      <fieldset>
        <legend>Secrets (write-only)</legend>
        <p className="small">
          Stored: {fn?.secretNames.length ? fn.secretNames.map((s) => <code key={s}>{s} </code>) : <span className="muted">none</span>}. Values are never shown.
        </p>
        <label className="check">
          <input type="checkbox" checked={changeSecrets} onChange={(e) => setChangeSecrets(e.target.checked)} /> Replace all secrets on this deploy
        </label>
        {changeSecrets && (
          <textarea name="secrets" className="mono" rows={4} value={secrets} onChange={(e) => setSecrets(e.target.value)} placeholder={'API_TOKEN=...\nWEBHOOK_SECRET=...'} aria-label="Secrets, one NAME=value per line" autoComplete="off" spellCheck={false} />
        )}
      </fieldset>
      {fn && (
        <div className="danger-zone">
          <ErrorMessage error={remove.error} />
          <button
            type="button"
            className="danger"
            onClick={() => {
              if (confirm(`Delete the function ${name} and its history?`)) remove.mutate();
            }}
          >
            Delete function
          </button>
        </div>
      )}
    </form>
  );
}

function Runs({ name }: { name: string }) {
  const client = useClient();
  const [status, setStatus] = useState('');
  const runs = useQuery({
    queryKey: ['runs', name, status],
    queryFn: () => client.functions.runs(name, { status: (status || undefined) as RunStatus | undefined, limit: 50 }),
    refetchInterval: 3000,
  });
  return (
    <div className="stack">
      <label>
        Status
        <select value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">any</option>
          {['queued', 'running', 'succeeded', 'failed', 'timed_out', 'dead'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      {runs.error ? <ErrorMessage error={runs.error} /> : runs.data ? <RunsTable runs={runs.data.items} /> : <Loading what="runs" />}
    </div>
  );
}

/** Metering per day (GET /v1/functions/:name/usage): what a person bills from. */
function Usage({ name }: { name: string }) {
  const client = useClient();
  const usage = useQuery({ queryKey: ['function-usage', name], queryFn: () => client.admin.functions.usage(name), refetchInterval: 10_000 });
  if (usage.error) return <ErrorMessage error={usage.error} />;
  if (!usage.data) return <Loading what="usage" />;
  const { items, total, from, to } = usage.data;
  const row = (label: string, d: Omit<(typeof items)[number], 'day'>) => (
    <tr key={label}>
      <td>{label}</td>
      <td>{d.attempts}</td>
      <td>{d.coldStarts}</td>
      <td>{d.wallMs}</td>
      <td>{d.cpuMs}</td>
      <td>{formatBytes(d.memoryBytesMax)}</td>
      <td>{d.gbSeconds}</td>
    </tr>
  );
  return (
    <div className="stack">
      <p className="muted small">
        UTC days {from} – {to}; every attempt counts (retries too).
      </p>
      <table data-testid="function-usage">
        <thead>
          <tr>
            <th>day</th>
            <th>attempts</th>
            <th>cold starts</th>
            <th>wall ms</th>
            <th>CPU ms</th>
            <th>max memory</th>
            <th>GB-s</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => row(d.day, d))}
          {row('total', total)}
        </tbody>
      </table>
    </div>
  );
}

function Invoke({ name }: { name: string }) {
  const client = useClient();
  const [payload, setPayload] = useState('{\n  "name": "Ada"\n}');
  const [localError, setLocalError] = useState<unknown>();
  const invoke = useMutation({ mutationFn: (p: unknown) => client.functions.invoke(name, p) });
  const result: Invocation | undefined = invoke.data;
  return (
    <div className="stack">
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          try {
            const p = parseJson(payload, 'The payload');
            setLocalError(undefined);
            invoke.mutate(p);
          } catch (err) {
            setLocalError(err);
          }
        }}
      >
        <label>
          Payload (JSON, becomes <code>event.payload</code>)
          <textarea name="payload" className="mono" rows={6} spellCheck={false} value={payload} onChange={(e) => setPayload(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={invoke.isPending}>
          {invoke.isPending ? 'Running…' : 'Invoke'}
        </button>
      </form>
      <ErrorMessage error={localError ?? invoke.error} title="Invocation failed" />
      {result && (
        <div className="stack" data-testid="invoke-result">
          <p>
            <StatusBadge status={result.status} /> in {result.durationMs ?? '—'} ms
          </p>
          {result.result !== undefined && <Json value={result.result} />}
          {result.error !== undefined && <Json value={result.error} />}
          <RunDetail id={result.runId} />
        </div>
      )}
    </div>
  );
}
