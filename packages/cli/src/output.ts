import { SingleBar } from 'cli-progress';
import pc from 'picocolors';

export interface Streams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

type Paint = (text: string) => string;

export interface Progress {
  /** Advances by `n` (default 1). */
  tick(n?: number): void;
  /** Grows the total (when more work is found on the way). */
  grow(n: number): void;
  stop(): void;
}

/**
 * Everything the CLI prints goes through here: human text on stdout (colours only on a
 * terminal, NO_COLOR respected), or with `--json` exactly one JSON document on stdout;
 * diagnostics and progress bars on stderr (bars only on a terminal).
 */
export class Output {
  readonly color: { green: Paint; red: Paint; yellow: Paint; dim: Paint; bold: Paint; cyan: Paint };

  constructor(
    readonly streams: Streams,
    readonly json: boolean,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    const c = pc.createColors(!json && this.colorful(streams.stdout));
    this.color = { green: c.green, red: c.red, yellow: c.yellow, dim: c.dim, bold: c.bold, cyan: c.cyan };
  }

  private colorful(stream: { isTTY?: boolean }): boolean {
    return stream.isTTY === true && this.env['NO_COLOR'] === undefined && this.env['TERM'] !== 'dumb';
  }

  /** A line for people (nothing in --json mode). */
  line(text = ''): void {
    if (!this.json) this.streams.stdout.write(`${text}\n`);
  }

  /** The result of a command: JSON in --json mode, else the human lines given. */
  result(value: unknown, human?: () => void): void {
    if (this.json) this.streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else human?.();
  }

  /** One JSON value per line (streams such as `logs --follow --json`). */
  event(value: unknown): void {
    this.streams.stdout.write(`${JSON.stringify(value)}\n`);
  }

  warn(text: string): void {
    this.streams.stderr.write(`${this.color.yellow('warning')} ${text}\n`);
  }

  error(text: string, details: string[] = []): void {
    const paint = pc.createColors(this.colorful(this.streams.stderr));
    this.streams.stderr.write(`${paint.red('error')} ${text}\n`);
    for (const d of details) this.streams.stderr.write(`  ${d}\n`);
  }

  /** A progress bar on stderr when it is a terminal; otherwise silent. */
  progress(label: string, total: number): Progress {
    if (!this.streams.stderr.isTTY) {
      return { tick: () => undefined, grow: () => undefined, stop: () => undefined };
    }
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total}`,
      stream: this.streams.stderr,
      hideCursor: true,
      clearOnComplete: true,
    });
    let size = total;
    bar.start(size, 0);
    return {
      tick: (n = 1) => bar.increment(n),
      grow: (n) => {
        size += n;
        bar.setTotal(size);
      },
      stop: () => bar.stop(),
    };
  }
}
