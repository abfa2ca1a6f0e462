import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ObjectTooLargeError } from './storage-driver.js';

/**
 * Reads the first `bytes` bytes of `source` (fewer if it is shorter) without losing them:
 * `body` yields the whole stream again, head included, with backpressure.
 */
export async function peekHead(source: Readable, bytes: number): Promise<{ head: Buffer; body: Readable }> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < bytes) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    chunks.push(chunk);
    length += chunk.length;
  }
  const buffered = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    if (buffered.length > 0) yield buffered;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
  return { head: buffered.subarray(0, bytes), body: Readable.from(all(), { objectMode: false }) };
}

/** What `measure` saw, once its stream has ended. */
export interface Measured {
  bytes: number;
  /** sha256 (hex) of every byte that passed. */
  sha256: string;
}

/**
 * Passes `source` through while counting and hashing (sha256) its bytes; the returned
 * stream fails with ObjectTooLargeError as soon as more than `limit` bytes have passed,
 * so an oversized body is cut off while it streams, not after. `result()` is valid once
 * the stream has ended.
 */
export function measure(source: Readable, limit: number): { stream: Readable; result: () => Measured } {
  const hash = createHash('sha256');
  let bytes = 0;
  let digest: string | undefined;
  async function* pass(): AsyncGenerator<Buffer> {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > limit) throw new ObjectTooLargeError(limit);
      hash.update(chunk);
      yield chunk;
    }
  }
  return {
    stream: Readable.from(pass(), { objectMode: false }),
    result: () => ({ bytes, sha256: (digest ??= hash.digest('hex')) }),
  };
}

/** Reads a stream to its end, discarding the bytes (drains an unwanted request body). */
export async function discard(stream: Readable): Promise<void> {
  for await (const _chunk of stream) {
    // dropped
  }
}
