import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, constants, mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertObjectKey } from './object-key.js';
import type { UrlSigner } from './signed-url.js';
import {
  type ByteRange,
  InvalidObjectKeyError,
  type ObjectInfo,
  ObjectNotFoundError,
  type PresignGetOptions,
  type PresignPutOptions,
  type PutOptions,
  type StorageDriver,
} from './storage-driver.js';

export interface LocalDiskDriverOptions {
  /** Directory that holds every object (created when missing). */
  root: string;
  /** Signs the api URLs that stand in for S3 presigned URLs. */
  signer: UrlSigner;
  /** Absolute base URL of the api's signed-URL route, e.g. `https://api.example.com/v1/storage/signed`. */
  signedUrlBase: string;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

/**
 * Objects as files under one directory: `<root>/<key>`. Writes go to `<root>/.tmp/` first
 * (flushed to disk) and are renamed into place, so a reader never sees a partial object
 * and a failed upload leaves nothing behind. `.tmp` cannot collide with an object: key
 * segments never start with a dot. Presigned URLs are signed api URLs.
 */
export class LocalDiskDriver implements StorageDriver {
  readonly kind = 'local' as const;
  private readonly root: string;
  private readonly tmp: string;

  constructor(private readonly options: LocalDiskDriverOptions) {
    this.root = resolve(options.root);
    this.tmp = join(this.root, '.tmp');
  }

  async init(): Promise<void> {
    await mkdir(this.tmp, { recursive: true });
  }

  async check(): Promise<void> {
    await access(this.tmp, constants.W_OK);
  }

  /** The file of a key; refuses any key whose path would leave the root. */
  private pathOf(key: string): string {
    assertObjectKey(key);
    const path = resolve(this.root, ...key.split('/'));
    if (!path.startsWith(this.root + sep)) throw new InvalidObjectKeyError('The object key is not allowed');
    return path;
  }

  async put(key: string, body: Readable, _options: PutOptions): Promise<{ size: number }> {
    const target = this.pathOf(key);
    const temp = join(this.tmp, randomUUID());
    let size = 0;
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(temp, { flags: 'wx', flush: true }),
      );
      await mkdir(dirname(target), { recursive: true });
      await rename(temp, target);
    } catch (err) {
      body.destroy();
      await rm(temp, { force: true });
      throw err;
    }
    return { size };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(key);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw new ObjectNotFoundError(key);
    }
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { size: info.size, lastModified: info.mtime } : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathOf(key));
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }

  async move(fromKey: string, toKey: string): Promise<void> {
    const from = this.pathOf(fromKey);
    const to = this.pathOf(toKey);
    if (!(await this.stat(fromKey))) throw new ObjectNotFoundError(fromKey);
    await mkdir(dirname(to), { recursive: true });
    try {
      await rename(from, to);
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFoundError(fromKey);
      throw err;
    }
  }

  async presignPut(key: string, options: PresignPutOptions): Promise<string> {
    assertObjectKey(key);
    const token = this.options.signer.sign({ method: 'PUT', key, exp: expiry(options.expiresInSeconds), maxBytes: options.maxBytes });
    return `${this.options.signedUrlBase}?token=${token}`;
  }

  async presignGet(key: string, options: PresignGetOptions): Promise<string> {
    assertObjectKey(key);
    const token = this.options.signer.sign({
      method: 'GET',
      key,
      exp: expiry(options.expiresInSeconds),
      contentType: options.contentType,
      contentDisposition: options.contentDisposition,
      etag: options.etag,
    });
    return `${this.options.signedUrlBase}?token=${token}`;
  }
}

function expiry(seconds: number): number {
  return Math.floor(Date.now() / 1000) + seconds;
}
