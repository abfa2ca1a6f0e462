import { BaasError, NetworkError } from './errors.js';
import { type Body, enc, type FetchLike, type Http, toBaasError, UPLOAD_INIT } from './http.js';
import type { DownloadUrl, FileInfo, Page, UploadUrl } from './types.js';

/** What can be uploaded: a Blob/File (browsers; Node: `fs.openAsBlob(path)` streams from disk), bytes, or a stream with its size. */
export type UploadBody = Blob | ArrayBuffer | Uint8Array | ReadableStream<Uint8Array>;

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadOptions {
  /** Key inside the bucket, e.g. `avatars/me.png`. Default: chosen by the server. */
  key?: string;
  /** Media type; the server checks it against the bytes. Default: the Blob's type, else application/octet-stream. */
  contentType?: string;
  acl?: { read?: string[]; write?: string[] };
  /** Required for a ReadableStream body. */
  size?: number;
  /** Called as bytes go out (XMLHttpRequest upload events in browsers, the request stream elsewhere). */
  onProgress?: (progress: UploadProgress) => void;
  /**
   * `presigned` (default): ask for an upload URL, PUT the bytes there (to S3 directly with the
   * s3 driver), then complete. `multipart`: one multipart/form-data POST through the api.
   */
  method?: 'presigned' | 'multipart';
  signal?: AbortSignal;
}

export interface ListFilesOptions {
  prefix?: string;
  /** 1-1000, default 100. */
  limit?: number;
  cursor?: string | null;
}

/** A file's bytes as a stream, with what the headers tell. */
export interface FileStream {
  status: number;
  body: ReadableStream<Uint8Array>;
  size: number | undefined;
  contentType: string | undefined;
  etag: string | undefined;
  /** With `range`: e.g. `bytes 0-99/1234`. */
  contentRange: string | undefined;
}

interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body?: unknown): void;
  abort(): void;
  status: number;
  responseText: string;
  getResponseHeader(name: string): string | null;
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}
type XhrConstructor = new () => XhrLike;

function sizeOf(body: UploadBody, given: number | undefined): number {
  if (typeof Blob !== 'undefined' && body instanceof Blob) return body.size;
  if (body instanceof ArrayBuffer || body instanceof Uint8Array) return body.byteLength;
  if (given === undefined) throw new TypeError('upload: give options.size for a stream body');
  return given;
}

function toBlobOrStream(body: UploadBody): Blob | ReadableStream<Uint8Array> {
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) return body;
  if (typeof Blob !== 'undefined' && body instanceof Blob) return body;
  return new Blob([body as ArrayBuffer | Uint8Array<ArrayBuffer>]);
}

/**
 * Counts bytes as fetch pulls them (for progress), and fails the upload when the stream
 * ends with more or fewer bytes than announced: the request is aborted, so the server is
 * not left waiting for bytes that will never come.
 */
function counted(
  source: ReadableStream<Uint8Array>,
  total: number,
  onProgress: ((p: UploadProgress) => void) | undefined,
  abort: AbortController,
): ReadableStream<Uint8Array> {
  let loaded = 0;
  const wrong = () => new NetworkError(`The upload stream has ${loaded} bytes, not the announced ${total}`);
  return source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        loaded += chunk.byteLength;
        if (loaded > total) {
          abort.abort(wrong());
          return controller.error(wrong());
        }
        controller.enqueue(chunk);
        onProgress?.({ loaded, total });
      },
      flush(controller) {
        if (loaded !== total) {
          abort.abort(wrong());
          controller.error(wrong());
        }
      },
    }),
  );
}

/** The files of one bucket: `client.storage.from('avatars')`. */
export class BucketRef {
  constructor(
    private readonly http: Http,
    private readonly fetchFn: FetchLike,
    readonly name: string,
  ) {}

  /** Uploads a file; answers it once it is stored and checked (`status: 'ready'`). */
  async upload(body: UploadBody, options: UploadOptions = {}): Promise<FileInfo> {
    const size = sizeOf(body, options.size);
    const contentType =
      options.contentType ?? (typeof Blob !== 'undefined' && body instanceof Blob && body.type ? body.type : 'application/octet-stream');
    if (options.method === 'multipart') return this.uploadMultipart(body, contentType, options);

    const target = await this.http.json<UploadUrl>({
      method: 'POST',
      path: `/v1/storage/buckets/${enc(this.name)}/upload-url`,
      body: { key: options.key, size, contentType, acl: options.acl },
      signal: options.signal,
    });
    await this.put(target, toBlobOrStream(body), size, options);
    return this.http.json<FileInfo>({ method: 'POST', path: `/v1/storage/files/${enc(target.file.id)}/complete`, signal: options.signal });
  }

  /** PUTs the bytes to a presigned URL (no credentials of ours: the URL carries its own). */
  private async put(target: UploadUrl, data: Blob | ReadableStream<Uint8Array>, size: number, options: UploadOptions): Promise<void> {
    const headers = { ...target.headers };
    const Xhr = (globalThis as { XMLHttpRequest?: XhrConstructor }).XMLHttpRequest;
    if (options.onProgress && Xhr && data instanceof Blob) {
      const response = await xhrSend(Xhr, target.method, target.url, headers, data, options);
      if (response.status >= 300) throw errorFromText(response.status, response.text);
      return;
    }
    let body: Body = data;
    const abort = new AbortController();
    const forward = () => abort.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', forward, { once: true });
    if (options.onProgress || data instanceof ReadableStream) {
      body = counted(data instanceof ReadableStream ? data : data.stream(), size, options.onProgress, abort);
      headers['content-length'] = String(size);
    }
    const init: RequestInit & { duplex?: 'half' } = { method: target.method, headers, body, signal: abort.signal, ...UPLOAD_INIT };
    if (body instanceof ReadableStream) init.duplex = 'half';
    let response: Response;
    try {
      response = await this.fetchFn(target.url, init);
    } catch (err) {
      if (abort.signal.reason instanceof NetworkError) throw abort.signal.reason;
      throw new NetworkError(`Upload to ${new URL(target.url).origin} failed: ${err instanceof Error ? err.message : String(err)}`, err);
    } finally {
      options.signal?.removeEventListener('abort', forward);
    }
    if (!response.ok) throw await toBaasError(response);
    await response.body?.cancel();
  }

  private async uploadMultipart(body: UploadBody, contentType: string, options: UploadOptions): Promise<FileInfo> {
    if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) {
      throw new TypeError('upload: a stream body needs the presigned method (multipart needs a Blob)');
    }
    const blob = body instanceof Blob ? body : new Blob([body as ArrayBuffer | Uint8Array<ArrayBuffer>], { type: contentType });
    const form = new FormData();
    if (options.key) form.append('key', options.key);
    if (options.acl) form.append('acl', JSON.stringify(options.acl));
    const filename = options.key?.split('/').pop() ?? ((blob as Blob & { name?: string }).name || 'file');
    form.append('file', blob.type ? blob : new Blob([blob], { type: contentType }), filename);
    const path = `/v1/storage/buckets/${enc(this.name)}/files`;
    const Xhr = (globalThis as { XMLHttpRequest?: XhrConstructor }).XMLHttpRequest;
    if (options.onProgress && Xhr) {
      const headers = await this.http.authHeaders();
      const response = await xhrSend(Xhr, 'POST', this.http.buildUrl(path), headers, form, options);
      if (response.status >= 300) throw errorFromText(response.status, response.text);
      return JSON.parse(response.text) as FileInfo;
    }
    return this.http.json<FileInfo>({ method: 'POST', path, body: form, rawBody: true, signal: options.signal });
  }

  /** One page of the ready files the caller may read, by key. */
  list(options: ListFilesOptions = {}): Promise<Page<FileInfo>> {
    return this.http.json<Page<FileInfo>>({
      method: 'GET',
      path: `/v1/storage/buckets/${enc(this.name)}/files`,
      query: { prefix: options.prefix, limit: options.limit, cursor: options.cursor ?? undefined },
    });
  }

  /** Every file under a prefix, page after page. */
  async *iterate(options: Omit<ListFilesOptions, 'cursor'> = {}): AsyncGenerator<FileInfo, void, undefined> {
    let cursor: string | null = null;
    do {
      const page: Page<FileInfo> = await this.list({ ...options, cursor });
      yield* page.items;
      cursor = page.nextCursor;
    } while (cursor);
  }
}

/** Files by id, buckets by name. */
export class StorageClient {
  constructor(
    private readonly http: Http,
    private readonly fetchFn: FetchLike,
  ) {}

  from(bucket: string): BucketRef {
    return new BucketRef(this.http, this.fetchFn, bucket);
  }

  /** A file's metadata (404 FILE_NOT_FOUND also when the caller may not read it). */
  info(id: string): Promise<FileInfo> {
    return this.http.json<FileInfo>({ method: 'GET', path: `/v1/storage/files/${enc(id)}` });
  }

  /** Changes a file's acl and/or key (whoever may write it, within the bucket's update rule). */
  update(id: string, change: { acl?: { read?: string[]; write?: string[] }; key?: string }): Promise<FileInfo> {
    return this.http.json<FileInfo>({ method: 'PATCH', path: `/v1/storage/files/${enc(id)}`, body: change });
  }

  async remove(id: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: `/v1/storage/files/${enc(id)}` });
  }

  /** The whole file in memory. For large files use `stream`. */
  async download(id: string, options: { signal?: AbortSignal } = {}): Promise<Blob> {
    const response = await this.http.send({ method: 'GET', path: `/v1/storage/files/${enc(id)}/content`, signal: options.signal });
    return response.blob();
  }

  /**
   * The file's bytes as a stream, not buffered (Node: `Readable.fromWeb(body)` pipes it to
   * disk). `range` asks for part of it, e.g. `{ start: 0, end: 1023 }` (inclusive).
   */
  async stream(id: string, options: { range?: { start: number; end?: number }; signal?: AbortSignal } = {}): Promise<FileStream> {
    const headers: Record<string, string> = {};
    if (options.range) headers['range'] = `bytes=${options.range.start}-${options.range.end ?? ''}`;
    const response = await this.http.send({ method: 'GET', path: `/v1/storage/files/${enc(id)}/content`, headers, signal: options.signal });
    if (!response.body) throw new NetworkError('The answer has no body');
    const length = response.headers.get('content-length');
    return {
      status: response.status,
      body: response.body,
      size: length ? Number(length) : undefined,
      contentType: response.headers.get('content-type') ?? undefined,
      etag: response.headers.get('etag') ?? undefined,
      contentRange: response.headers.get('content-range') ?? undefined,
    };
  }

  /** The URL of a file's bytes; works without credentials for files anyone may read (public buckets). */
  publicUrl(id: string, options: { download?: boolean } = {}): string {
    return this.http.buildUrl(`/v1/storage/files/${enc(id)}/content`, { download: options.download ? 'true' : undefined });
  }

  /** A short-lived URL anyone holding it can GET (after the same permission check as a download). */
  createSignedUrl(id: string, options: { download?: boolean } = {}): Promise<DownloadUrl> {
    return this.http.json<DownloadUrl>({
      method: 'GET',
      path: `/v1/storage/files/${enc(id)}/download-url`,
      query: { download: options.download ? 'true' : undefined },
    });
  }
}

function xhrSend(
  Xhr: XhrConstructor,
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Blob | FormData,
  options: UploadOptions,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const xhr = new Xhr();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) {
      // Browsers set these themselves and refuse them from scripts.
      if (!['content-length', 'host'].includes(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    const total = body instanceof Blob ? body.size : 0;
    xhr.upload.onprogress = (e) => options.onProgress?.({ loaded: e.loaded, total: e.lengthComputable ? e.total : total });
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
    xhr.onerror = () => reject(new NetworkError(`Upload to ${url} failed`));
    xhr.onabort = () => reject(new NetworkError('The upload was aborted'));
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

function errorFromText(status: number, text: string): BaasError {
  try {
    const body = JSON.parse(text) as { statusCode: number; code: BaasError['code']; message: string; requestId?: string };
    if (typeof body.code === 'string') return new BaasError(body);
  } catch {
    // not the api's error body
  }
  return new BaasError({ statusCode: status, code: `HTTP_${status}`, message: `HTTP ${status}` });
}
