import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Output } from './output.js';

class Sink extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const ESC = '\u001b[';

function output(tty: boolean, json = false, env: NodeJS.ProcessEnv = {}) {
  const stdout = new Sink(tty);
  const stderr = new Sink(tty);
  return { out: new Output({ stdout, stderr }, json, env), stdout, stderr };
}

describe('Output', () => {
  it('colours only on a terminal, never with NO_COLOR, TERM=dumb or --json', () => {
    const tty = output(true);
    tty.out.line(tty.out.color.green('ok'));
    expect(tty.stdout.text).toContain(`${ESC}32mok`);
    for (const quiet of [output(false), output(true, false, { NO_COLOR: '1' }), output(true, false, { TERM: 'dumb' })]) {
      quiet.out.line(quiet.out.color.green('ok'));
      expect(quiet.stdout.text).toBe('ok\n');
    }
    const json = output(true, true);
    json.out.result({ a: 1 }, () => json.out.line(json.out.color.red('human')));
    expect(JSON.parse(json.stdout.text)).toEqual({ a: 1 });
  });

  it('--json: one JSON document on stdout and no human lines; diagnostics go to stderr', () => {
    const { out, stdout, stderr } = output(false, true);
    out.line('for people');
    out.warn('careful');
    out.result({ done: true }, () => out.line('done'));
    expect(stdout.text).toBe('{\n  "done": true\n}\n');
    expect(stderr.text).toBe('warning careful\n');
    out.error('broken', ['detail']);
    expect(stderr.text).toContain('error broken\n  detail\n');
  });

  it('draws progress bars on a terminal only, on stderr', () => {
    const plain = output(false);
    const bar = plain.out.progress('Work', 3);
    bar.tick();
    bar.grow(2);
    bar.stop();
    expect(plain.stderr.text + plain.stdout.text).toBe('');

    const tty = output(true);
    const drawn = tty.out.progress('Work', 2);
    drawn.tick(2);
    drawn.stop();
    expect(tty.stderr.text).toContain('Work');
    expect(tty.stdout.text).toBe('');
  });
});
