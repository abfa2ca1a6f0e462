import type { Readable } from 'node:stream';
import { Client, CopyDestinationOptions, CopySourceOptions } from 'minio';
import { assertObjectKey } from './object-key.js';
import {
  type ByteRange,
  type ObjectInfo,
  ObjectNotFoundError,
  type PresignGetOptions,
  type PresignPutOptions,
  type PutOptions,
  type StorageDriver,
} from './storage-driver.js';

export interface S3DriverOptions {
  /** S3 API URL the api talks to, e.g. `http://minio:9000`. */
  endpoint: string;
  /** S3 API URL clients reach, used in presigned URLs (the signature covers the host); defaults to `endpoint`. */
  publicEndpoint?: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** The one physical bucket; logical buckets are key prefixes inside it. */
  bucket: string;
  /** `http://host/bucket/key` (MinIO, emulators) rather than `http://bucket.host/key`. */
  pathStyle: boolean;
  /** Bytes buffered per part of a multipart upload (S3's minimum is 5 MiB; tests may go lower). Default 8 MiB. */
  partSize?: number;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

function clientFor(endpoint: string, options: S3DriverOptions): Client {
  const url = new URL(endpoint);
  const useSSL = url.protocol === 'https:';
  return new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: options.accessKey,
    secretKey: options.secretKey,
    region: options.region, // known up front: no region lookup request, and presigning stays offline
    pathStyle: options.pathStyle,
  });
}

function s3Code(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function isNotFound(err: unknown): boolean {
  const code = s3Code(err);
  return code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchObject';
}

/**
 * Cuts a byte stream into parts of exactly `size` bytes (the last one shorter), copied into
 * two part buffers used in turn, so an upload holds 2 x `size` bytes whatever the file size
 * and makes no garbage per part (a new buffer per part is freed only by a full GC, which V8
 * runs once external memory has grown by about 64 MiB: that, not the parts, was the api's
 * peak RSS growth). A yielded part stays valid until the second `next()` after it: the
 * caller holds at most two parts, and has finished with a part before asking for the part
 * after the next. The consumer's pace is the stream's pace.
 */
async function* partsOf(body: Readable, size: number): AsyncGenerator<Buffer> {
  const buffers: Buffer[] = [];
  let turn = 0;
  let part: Buffer | undefined;
  let filled = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    let offset = 0;
    while (offset < chunk.length) {
      if (!part) {
        buffers[turn] ??= Buffer.allocUnsafeSlow(size);
        part = buffers[turn]!;
        turn = 1 - turn;
      }
      const n = chunk.copy(part, filled, offset, Math.min(chunk.length, offset + size - filled));
      filled += n;
      offset += n;
      if (filled === size) {
        yield part;
        part = undefined;
        filled = 0;
      }
    }
  }
  if (part && filled > 0) yield part.subarray(0, filled);
}

/**
 * Objects in one S3 (MinIO) bucket through the `minio` client. An upload smaller than one
 * part is a single PUT; a larger one is a multipart upload fed part by part, so memory
 * stays at about two parts per upload whatever the file size (the client's own
 * `putObject` would buffer 64 MiB parts, or the whole body below that). A failed upload
 * is aborted, leaving no object.
 */
export class S3Driver implements StorageDriver {
  readonly kind = 's3' as const;
  private readonly client: Client;
  private readonly presigner: Client;
  private readonly bucket: string;
  private readonly partSize: number;

  constructor(private readonly options: S3DriverOptions) {
    this.client = clientFor(options.endpoint, options);
    this.presigner = options.publicEndpoint ? clientFor(options.publicEndpoint, options) : this.client;
    this.bucket = options.bucket;
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
  }

  async init(): Promise<void> {
    if (!(await this.client.bucketExists(this.bucket))) {
      try {
        await this.client.makeBucket(this.bucket, this.options.region);
      } catch (err) {
        // Another replica created it first.
        const code = s3Code(err);
        if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
      }
    }
  }

  async check(): Promise<void> {
    if (!(await this.client.bucketExists(this.bucket))) throw new Error(`S3 bucket ${this.bucket} does not exist`);
  }

  async put(key: string, body: Readable, options: PutOptions): Promise<{ size: number }> {
    assertObjectKey(key);
    const headers = { 'Content-Type': options.contentType };
    const parts = partsOf(body, this.partSize);
    try {
      const first = await parts.next();
      const firstPart = first.done ? Buffer.alloc(0) : first.value;
      const second = first.done ? first : await parts.next();
      if (second.done) {
        await this.client.putObject(this.bucket, key, firstPart, firstPart.length, headers);
        return { size: firstPart.length };
      }
      return await this.multipart(key, headers, firstPart, second.value, parts);
    } catch (err) {
      body.destroy();
      throw err;
    }
  }

  private async multipart(
    key: string,
    headers: Record<string, string>,
    first: Buffer,
    second: Buffer,
    rest: AsyncGenerator<Buffer>,
  ): Promise<{ size: number }> {
    const uploadId = await this.client.initiateNewMultipartUpload(this.bucket, key, headers);
    const etags: { part: number; etag: string }[] = [];
    let size = 0;
    const upload = async (payload: Buffer) => {
      const part = etags.length + 1;
      const result = await this.client.uploadPart(
        {
          bucketName: this.bucket,
          objectName: key,
          uploadID: encodeURIComponent(uploadId),
          partNumber: part,
          headers: { 'Content-Length': payload.length },
        },
        payload,
      );
      etags.push({ part, etag: result.etag });
      size += payload.length;
    };
    try {
      await upload(first);
      await upload(second);
      for await (const payload of rest) await upload(payload);
      await this.client.completeMultipartUpload(this.bucket, key, uploadId, etags);
      return { size };
    } catch (err) {
      await this.client.abortMultipartUpload(this.bucket, key, encodeURIComponent(uploadId)).catch(() => undefined);
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    assertObjectKey(key);
    try {
      return range
        ? await this.client.getPartialObject(this.bucket, key, range.start, range.end - range.start + 1)
        : await this.client.getObject(this.bucket, key);
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    assertObjectKey(key);
    try {
      const info = await this.client.statObject(this.bucket, key);
      const contentType: unknown = info.metaData['content-type'];
      return {
        size: info.size,
        lastModified: info.lastModified,
        ...(typeof contentType === 'string' ? { contentType } : {}),
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertObjectKey(key);
    try {
      await this.client.removeObject(this.bucket, key);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async move(fromKey: string, toKey: string): Promise<void> {
    assertObjectKey(fromKey);
    assertObjectKey(toKey);
    try {
      await this.client.copyObject(
        new CopySourceOptions({ Bucket: this.bucket, Object: fromKey }),
        new CopyDestinationOptions({ Bucket: this.bucket, Object: toKey }),
      );
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(fromKey);
      throw err;
    }
    await this.delete(fromKey);
  }

  async presignPut(key: string, options: PresignPutOptions): Promise<string> {
    assertObjectKey(key);
    return this.presigner.presignedPutObject(this.bucket, key, options.expiresInSeconds);
  }

  async presignGet(key: string, options: PresignGetOptions): Promise<string> {
    assertObjectKey(key);
    return this.presigner.presignedGetObject(this.bucket, key, options.expiresInSeconds, {
      'response-content-type': options.contentType,
      'response-content-disposition': options.contentDisposition,
    });
  }
}
