import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import {
  detectContentType,
  discard,
  measure,
  mimeTypeAllowed,
  ObjectTooLargeError,
  peekHead,
  SNIFF_BYTES,
  STORAGE_DRIVER,
  type StorageDriver,
  URL_SIGNER,
  type UrlSigner,
} from '#libs/storage';
import { type Caller, isAdmin } from '../auth/caller.js';
import { AppException } from '../common/app-exception.js';
import type { FileView, UploadUrlBody, UploadUrlResult } from './storage.dto.js';
import { keyScopeOf, StorageRepository } from './storage.repository.js';
import { StorageService } from './storage.service.js';
import { bucketRuleAllows } from './storage.rules.js';
import { eventOf, fileTooLarge, keyTaken, ruleDenied, rulesOf, signedClaims, stagingKeyOf, uploadError } from './storage.views.js';

const sizeMismatch = (message: string) => new AppException(422, 'SIZE_MISMATCH', message);

/**
 * Presigned uploads: a pending file and a URL the client PUTs the bytes to (the driver's
 * own, or for the local disk `PUT /v1/storage/signed`), then `complete`, which checks the
 * object and makes the file ready.
 */
@Injectable()
export class PresignedUploadService {
  constructor(
    private readonly repo: StorageRepository,
    private readonly files: StorageService,
    @Inject(STORAGE_DRIVER) private readonly driver: StorageDriver,
    @Inject(URL_SIGNER) private readonly signer: UrlSigner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A pending file record and a URL to PUT its bytes to (checked and made ready by `complete`). */
  async createUploadUrl(caller: Caller, bucketName: string, body: UploadUrlBody): Promise<UploadUrlResult> {
    const bucket = await this.files.bucket(bucketName);
    const limit = this.files.limitOf(bucket);
    if (body.size > limit) throw fileTooLarge(limit);
    if (!mimeTypeAllowed(body.contentType, bucket.allowedMimeTypes)) {
      throw new AppException(415, 'MIME_TYPE_NOT_ALLOWED', `This bucket does not accept ${body.contentType} files`);
    }
    const id = randomUUID();
    const ownerId = caller.kind === 'user' ? caller.userId : null;
    const planned = { bucket: bucket.name, key: body.key ?? id, size: body.size, contentType: body.contentType, ownerId };
    if (!isAdmin(caller) && !bucketRuleAllows(caller, rulesOf(bucket), 'create', planned)) throw ruleDenied(caller, 'create');
    const ttl = this.config.STORAGE_UPLOAD_URL_TTL_SECONDS;
    const expiresAt = new Date(Date.now() + ttl * 1000);
    const acl = body.acl ?? { read: [], write: [] };
    const objectKey = `${bucket.name}/${id}`;
    const result = await this.repo.insertFile(
      {
        ...planned,
        id,
        // A pending upload reserves its key only in its owner's namespace (keyScopeOf).
        keyScope: keyScopeOf(bucket.public, ownerId, 'pending'),
        objectKey,
        checksum: null,
        aclRead: acl.read,
        aclWrite: acl.write,
        status: 'pending',
        uploadExpiresAt: expiresAt,
      },
      null,
    );
    if (!result) throw keyTaken();
    await this.files.removeDropped(result.dropped);
    const url = await this.driver.presignPut(stagingKeyOf(objectKey), { expiresInSeconds: ttl, maxBytes: body.size });
    return {
      file: this.files.view(result.row, caller, bucket.public),
      url,
      method: 'PUT',
      headers: { 'content-type': body.contentType },
      expiresAt: expiresAt.toISOString(),
    };
  }

  /** `PUT /v1/storage/signed?token=`: stores the body at the token's key, refusing more than its byte limit. */
  async putSigned(token: string, body: Readable, contentLength: number | undefined): Promise<{ etag: string }> {
    const claims = signedClaims(this.signer, token, 'PUT');
    const limit = claims.maxBytes ?? 0;
    if (contentLength !== undefined && contentLength > limit) {
      throw new AppException(413, 'FILE_TOO_LARGE', `The body is larger than the declared ${limit} bytes`);
    }
    const measured = measure(body, limit);
    try {
      await this.driver.put(claims.key, measured.stream, { contentType: 'application/octet-stream' });
    } catch (err) {
      throw uploadError(err);
    }
    return { etag: `"${measured.result().sha256}"` };
  }

  /**
   * Finishes a presigned upload: moves the PUT object to the file's own key (which no URL
   * can write, so what is checked is what is served), checks it there (size as declared,
   * type from its leading bytes as declared, sha256 computed while reading), then marks the
   * file ready with its `upload` event. A failed check deletes the moved object; the file
   * stays pending and can be uploaded again while its URL is valid.
   */
  async complete(caller: Caller, id: string): Promise<FileView> {
    const file = await this.files.writable(caller, id);
    if (file.status === 'ready') return this.files.view(file, caller, file.bucketRef.public);
    const size = Number(file.size);
    const staged = await this.driver.stat(stagingKeyOf(file.objectKey));
    if (staged) {
      if (staged.size !== size) throw sizeMismatch(`The uploaded object has ${staged.size} bytes, not the declared ${size}`);
      await this.driver.move(stagingKeyOf(file.objectKey), file.objectKey);
    } else if (!(await this.driver.stat(file.objectKey))) {
      throw new AppException(409, 'UPLOAD_MISSING', 'Nothing has been uploaded to the URL yet');
    }

    let checksum: string;
    try {
      checksum = await this.verifyObject(file.objectKey, size, file.contentType, file.bucketRef.allowedMimeTypes);
    } catch (err) {
      await this.files.removeObject(file.objectKey);
      throw err;
    }
    const keyScope = keyScopeOf(file.bucketRef.public, file.ownerId, 'ready');
    const ready = await this.repo.markReady(id, checksum, keyScope, eventOf(file, 'upload', caller));
    if (ready === 'key-taken') {
      // A ready file of the public bucket took the key meanwhile (one anyone can list).
      await this.files.removeObject(file.objectKey);
      throw keyTaken();
    }
    if (ready) {
      this.files.published('create', ready, file.bucketRef.public);
      return this.files.view(ready, caller, file.bucketRef.public);
    }
    // Completed concurrently, or deleted meanwhile.
    return this.files.getFile(caller, id);
  }

  /** Reads an object once: its leading bytes must be of `contentType`, its length `size`. Returns its sha256. */
  private async verifyObject(objectKey: string, size: number, contentType: string, allowed: string[]): Promise<string> {
    const { head, body } = await peekHead(await this.driver.get(objectKey), SNIFF_BYTES);
    const detected = await detectContentType(head, contentType);
    if (detected !== contentType || !mimeTypeAllowed(detected, allowed)) {
      body.destroy();
      throw new AppException(422, 'CONTENT_TYPE_MISMATCH', `The uploaded bytes are ${detected}, not the declared ${contentType}`);
    }
    const measured = measure(body, size);
    try {
      await discard(measured.stream);
    } catch (err) {
      if (err instanceof ObjectTooLargeError) throw sizeMismatch(`The uploaded object is larger than the declared ${size} bytes`);
      throw err;
    }
    const { bytes, sha256 } = measured.result();
    if (bytes !== size) throw sizeMismatch(`The uploaded object has ${bytes} bytes, not the declared ${size}`);
    return sha256;
  }
}
