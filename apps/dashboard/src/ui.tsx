import { Component, type ErrorInfo, type ReactNode, useEffect, useRef } from 'react';
import { BaasError, type ErrorDetail, NetworkError } from '@selfbaas/sdk';

/** The details of an api error by field path (e.g. `fields.0.name` → message). */
export function detailsByPath(error: unknown): Map<string, string> {
  const map = new Map<string, string>();
  if (error instanceof BaasError) for (const d of error.details ?? []) if (d.path !== undefined) map.set(String(d.path), d.message);
  return map;
}

/** A readable message for anything thrown: api errors keep their code and request id. */
export function ErrorMessage({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const api = error instanceof BaasError ? error : undefined;
  const message =
    error instanceof NetworkError
      ? `The api cannot be reached (${error.message}). Is it running?`
      : error instanceof Error
        ? error.message
        : typeof error === 'string'
          ? error
          : JSON.stringify(error);
  const details: ErrorDetail[] = api?.details ?? [];
  return (
    <div className="error" role="alert">
      <strong>{title ?? 'Something went wrong'}:</strong> {message}
      {api && api.code && <code className="code"> {api.code}</code>}
      {details.length > 0 && (
        <ul>
          {details.map((d, i) => (
            <li key={i}>
              {d.path ? <code>{d.path}</code> : null} {d.message}
            </li>
          ))}
        </ul>
      )}
      {api?.requestId && <div className="muted small">request id {api.requestId}</div>}
    </div>
  );
}

interface BoundaryState {
  error?: Error;
}

/** Catches render errors of a page, so a bug or bad data never leaves a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, BoundaryState> {
  override state: BoundaryState = {};

  static getDerivedStateFromError(error: Error): BoundaryState {
    return { error };
  }

  override componentDidUpdate(prev: { resetKey?: string }): void {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: undefined });
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('dashboard page crashed', error, info.componentStack);
  }

  override render(): ReactNode {
    if (this.state.error) {
      return (
        <div className="page">
          <ErrorMessage error={this.state.error} title="This page failed" />
          <button type="button" onClick={() => this.setState({ error: undefined })}>
            Try again
          </button>
        </div>
      );
    }
    return this.props.children;
  }
}

export function Loading({ what }: { what?: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      Loading{what ? ` ${what}` : ''}…
    </p>
  );
}

/** A modal dialog (native <dialog>: focus trap and Escape come with it). */
export function Dialog({ open, title, onClose, children, wide }: { open: boolean; title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className={wide ? 'wide' : undefined} onClose={onClose} aria-label={title}>
      <header className="dialog-head">
        <h2>{title}</h2>
        <button type="button" className="ghost" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </header>
      {open && children}
    </dialog>
  );
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status.replace('_', ' ')}</span>;
}

/** Cursor paging: a stack of the cursors of the pages before this one. */
export function Pager({ cursors, nextCursor, onChange }: { cursors: string[]; nextCursor: string | null | undefined; onChange: (cursors: string[]) => void }) {
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" disabled={cursors.length === 0} onClick={() => onChange(cursors.slice(0, -1))}>
        ← Previous
      </button>
      <span className="muted">page {cursors.length + 1}</span>
      <button type="button" disabled={!nextCursor} onClick={() => nextCursor && onChange([...cursors, nextCursor])}>
        Next →
      </button>
    </nav>
  );
}

/** Pretty JSON, or the text as it is. */
export function Json({ value }: { value: unknown }) {
  return <pre className="json">{typeof value === 'string' ? value : JSON.stringify(value, null, 2)}</pre>;
}

/** Parses JSON typed by the operator; the error message names the problem. */
export function parseJson(text: string, what: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${what} is not valid JSON: ${e instanceof Error ? e.message : 'parse error'}`, { cause: e });
  }
}

/** A scrollable table; an empty head cell is the actions column. */
export function DataTable({ head, empty, className, children }: { head: string[]; empty?: ReactNode; className?: string; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table className={className}>
        <thead>
          <tr>
            {head.map((h, i) => (h ? <th key={i}>{h}</th> : <th key={i} aria-label="Actions" />))}
          </tr>
        </thead>
        <tbody>
          {children}
          {empty && (
            <tr>
              <td colSpan={head.length} className="muted">
                {empty}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
