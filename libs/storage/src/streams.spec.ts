import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ObjectTooLargeError } from './storage-driver.js';
import { discard, measure, peekHead } from './streams.js';

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('peekHead', () => {
  it('returns the first bytes and a stream that still yields everything', async () => {
    const data = randomBytes(10_000);
    const chunks = Array.from({ length: 10 }, (_, i) => data.subarray(i * 1000, (i + 1) * 1000));
    const { head, body } = await peekHead(Readable.from(chunks), 2500);
    expect(head.equals(data.subarray(0, 2500))).toBe(true);
    expect((await bytesOf(body)).equals(data)).toBe(true);
  });

  it('works on a stream shorter than the head, and on an empty one', async () => {
    const short = await peekHead(Readable.from([Buffer.from('abc')]), 100);
    expect(short.head.toString()).toBe('abc');
    expect((await bytesOf(short.body)).toString()).toBe('abc');
    const empty = await peekHead(Readable.from([]), 100);
    expect(empty.head.length).toBe(0);
    expect((await bytesOf(empty.body)).length).toBe(0);
  });
});

describe('measure', () => {
  it('counts and hashes what passes', async () => {
    const data = randomBytes(5000);
    const m = measure(Readable.from([data.subarray(0, 2000), data.subarray(2000)]), 5000);
    expect((await bytesOf(m.stream)).equals(data)).toBe(true);
    expect(m.result()).toEqual({ bytes: 5000, sha256: createHash('sha256').update(data).digest('hex') });
  });

  it('fails as soon as the limit is passed, without reading the rest', async () => {
    let produced = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 1000; i++) {
          produced++;
          yield Buffer.alloc(1000);
        }
      })(),
    );
    const m = measure(source, 2500);
    await expect(discard(m.stream)).rejects.toBeInstanceOf(ObjectTooLargeError);
    expect(produced).toBeLessThan(50);
  });
});
