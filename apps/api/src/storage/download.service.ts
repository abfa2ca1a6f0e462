import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { fileNameOf, isSafeInlineType, ObjectNotFoundError, STORAGE_DRIVER, type StorageDriver, URL_SIGNER, type UrlSigner } from '#libs/storage';
import type { Caller } from '../auth/caller.js';
import { notModified } from '../common/conditional.js';
import { contentDisposition, decideRange } from './content-headers.js';
import type { DownloadUrlResult } from './storage.dto.js';
import type { FileRow } from './storage.repository.js';
import { StorageService } from './storage.service.js';
import { fileNotFound, signedClaims } from './storage.views.js';

/** A response body to stream, with its status and headers (content, signed GET). */
export interface Download {
  status: 200 | 206 | 304 | 416;
  headers: Record<string, string>;
  body?: Readable;
}

export interface ConditionalHeaders {
  range?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifRange?: string;
}

/** Inline only for types positively identified as safe to show (isSafeInlineType); everything else downloads. */
function dispositionFor(file: FileRow, forceDownload: boolean): string {
  const kind = !forceDownload && isSafeInlineType(file.contentType) ? 'inline' : 'attachment';
  return contentDisposition(kind, fileNameOf(file.key));
}

/** Downloads: a file's bytes through the api, a presigned download URL, the local driver's signed GET. */
@Injectable()
export class DownloadService {
  constructor(
    private readonly files: StorageService,
    @Inject(STORAGE_DRIVER) private readonly driver: StorageDriver,
    @Inject(URL_SIGNER) private readonly signer: UrlSigner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The file's bytes (or one range of them) with headers that keep browsers from running them. */
  async openContent(caller: Caller, id: string, conditional: ConditionalHeaders, forceDownload: boolean): Promise<Download> {
    const file = await this.files.readableReady(caller, id);
    return this.serve(file.objectKey, Number(file.size), {
      'content-type': file.contentType,
      'content-disposition': dispositionFor(file, forceDownload),
      etag: `"${file.checksum}"`,
      'last-modified': file.updatedAt.toUTCString(),
      'cache-control': file.bucketRef.public ? 'public, max-age=60' : 'private, no-cache',
    }, conditional);
  }

  /** A short-lived URL to GET the file from, after the same check as a direct download. */
  async downloadUrl(caller: Caller, id: string, forceDownload: boolean): Promise<DownloadUrlResult> {
    const file = await this.files.readableReady(caller, id);
    const ttl = this.config.STORAGE_DOWNLOAD_URL_TTL_SECONDS;
    const url = await this.driver.presignGet(file.objectKey, {
      expiresInSeconds: ttl,
      contentType: file.contentType,
      contentDisposition: dispositionFor(file, forceDownload),
      etag: `"${file.checksum}"`,
    });
    return { url, expiresAt: new Date(Date.now() + ttl * 1000).toISOString() };
  }

  /** `GET /v1/storage/signed?token=`: the object at the token's key, with the headers fixed in the token. */
  async openSigned(token: string, conditional: ConditionalHeaders): Promise<Download> {
    const claims = signedClaims(this.signer, token, 'GET');
    const info = await this.driver.stat(claims.key);
    if (!info) throw fileNotFound();
    return this.serve(claims.key, info.size, {
      'content-type': claims.contentType ?? 'application/octet-stream',
      'content-disposition': claims.contentDisposition ?? 'attachment',
      ...(claims.etag ? { etag: claims.etag } : {}),
      'cache-control': 'private, no-cache',
    }, conditional);
  }

  private async serve(objectKey: string, size: number, headers: Record<string, string>, conditional: ConditionalHeaders): Promise<Download> {
    const base = { ...headers, 'x-content-type-options': 'nosniff', 'accept-ranges': 'bytes' };
    const etag = headers.etag;
    // If-None-Match first; If-Modified-Since counts only without it (RFC 9110, 13.1.3).
    if (notModified(conditional, etag, headers['last-modified'])) return { status: 304, headers: base };
    // If-Range with another validator: the client's partial copy is stale, send everything.
    const rangeHeader = conditional.ifRange !== undefined && conditional.ifRange !== etag ? undefined : conditional.range;
    const range = decideRange(rangeHeader, size);
    if (range.kind === 'unsatisfiable') {
      return { status: 416, headers: { ...base, 'content-range': `bytes */${size}` } };
    }
    try {
      if (range.kind === 'partial') {
        const body = await this.driver.get(objectKey, { start: range.start, end: range.end });
        return {
          status: 206,
          headers: { ...base, 'content-range': `bytes ${range.start}-${range.end}/${size}`, 'content-length': String(range.end - range.start + 1) },
          body,
        };
      }
      const body = await this.driver.get(objectKey);
      return { status: 200, headers: { ...base, 'content-length': String(size) }, body };
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw fileNotFound();
      throw err;
    }
  }
}
