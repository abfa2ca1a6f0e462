import { randomUUID } from 'node:crypto';
import { finished } from 'node:stream/promises';
import { z } from 'zod';
import { Inject, Injectable } from '@nestjs/common';
import { detectContentType, fileKeyProblem, measure, mimeTypeAllowed, peekHead, SNIFF_BYTES, STORAGE_DRIVER, type StorageDriver } from '#libs/storage';
import { type Caller, isAdmin } from '../auth/caller.js';
import { AppException, conflict, validationFailed } from '../common/app-exception.js';
import type { UploadPart } from './multipart.js';
import { type Acl, aclSchema, type FileView, fileKeySchema } from './storage.dto.js';
import { type BucketRow, keyScopeOf, type NewFile, StorageRepository } from './storage.repository.js';
import { StorageService } from './storage.service.js';
import { bucketRuleAllows } from './storage.rules.js';
import { eventOf, keyTaken, ruleDenied, ruleFile, rulesOf, uploadError } from './storage.views.js';

/** The form fields only an import may send (UploadService.importFile). */
const importedFileField = z.strictObject({
  id: z.uuid({ message: 'must be a UUID' }),
  ownerId: z
    .union([z.literal(''), z.uuid({ message: 'must be a UUID or empty' })])
    .transform((v) => (v === '' ? null : v)),
  createdAt: z.iso.datetime({ message: 'must be an ISO date-time' }).transform((v) => new Date(v)),
});
type ImportedFile = Partial<z.output<typeof importedFileField>>;
const IMPORTED_FIELDS: ReadonlySet<string> = new Set(Object.keys(importedFileField.shape));

/** A key for a file uploaded without one: `<file id>/<file name reduced to the key grammar>`. */
function generatedKey(id: string, fileName: string | undefined): string {
  const name = (fileName ?? '')
    .normalize('NFC')
    .replace(/[^\p{L}\p{M}\p{N} !\-_.*'()+=@,&$;~]/gu, '_')
    .trim()
    .replace(/^\.+$/, '')
    .slice(0, 200);
  const key = name ? `${id}/${name}` : id;
  return fileKeyProblem(key) === undefined ? key : id;
}

/**
 * Direct uploads: a multipart/form-data body streamed through the api into the driver
 * (`POST /storage/buckets/:bucket/files`), and imports from another installation.
 */
@Injectable()
export class UploadService {
  constructor(
    private readonly repo: StorageRepository,
    private readonly files: StorageService,
    @Inject(STORAGE_DRIVER) private readonly driver: StorageDriver,
  ) {}

  /**
   * A multipart/form-data upload: optional `key` and `acl` (JSON) fields, then one `file`.
   * The file streams through a content sniffer (type from its leading bytes, checked against
   * the bucket before anything is stored), a byte counter that stops it at the bucket's
   * limit, and a sha256, into the driver. Only then is the metadata written, with its
   * `upload` event, in one transaction.
   */
  upload(caller: Caller, bucketName: string, parts: AsyncIterable<UploadPart>): Promise<FileView> {
    return this.receive(caller, bucketName, parts, undefined);
  }

  /**
   * An upload that moves a file from another installation (`selfbaas import`; service role
   * or admin): besides key and acl, the form may carry the file's `id`, `ownerId` (empty =
   * none) and `createdAt` there. No `upload` event is written: moving data runs no function.
   */
  importFile(caller: Caller, bucketName: string, parts: AsyncIterable<UploadPart>): Promise<FileView> {
    return this.receive(caller, bucketName, parts, {});
  }

  private async receive(caller: Caller, bucketName: string, parts: AsyncIterable<UploadPart>, imported: ImportedFile | undefined): Promise<FileView> {
    const bucket = await this.files.bucket(bucketName);
    let key: string | undefined;
    let acl: Acl = { read: [], write: [] };
    let stored: NewFile | undefined;
    try {
      for await (const part of parts) {
        if (part.type === 'field') {
          if (stored) throw validationFailed('Send the key and acl fields before the file');
          [key, acl] = formField(part, key, acl, imported);
          continue;
        }
        if (part.fieldname !== 'file') {
          throw validationFailed('The request is not valid', [{ path: part.fieldname, message: 'the file field is named "file"' }]);
        }
        stored = await this.storeStream(caller, bucket, part, key, acl, imported);
      }
    } catch (err) {
      if (stored) await this.files.removeObject(stored.objectKey);
      throw uploadError(err);
    }
    if (!stored) throw new AppException(400, 'FILE_MISSING', 'The form has no file field');
    // Size and type are known only now: a refused file's bytes are removed again.
    if (!isAdmin(caller) && !bucketRuleAllows(caller, rulesOf(bucket), 'create', ruleFile(stored))) {
      await this.files.removeObject(stored.objectKey);
      throw ruleDenied(caller, 'create');
    }

    const result = await this.repo.insertFile(stored, imported ? null : eventOf(stored, 'upload', caller)).catch(async (err: unknown) => {
      await this.files.removeObject(stored.objectKey);
      throw err;
    });
    if (!result) {
      await this.files.removeObject(stored.objectKey);
      throw keyTaken();
    }
    await this.files.removeDropped(result.dropped);
    this.files.published('create', result.row, bucket.public);
    return this.files.view(result.row, caller, bucket.public);
  }

  private async storeStream(
    caller: Caller,
    bucket: BucketRow,
    part: Extract<UploadPart, { type: 'file' }>,
    requestedKey: string | undefined,
    acl: Acl,
    imported?: ImportedFile,
  ): Promise<NewFile> {
    const id = imported?.id ?? randomUUID();
    // Checked before the bytes are written: the object key is the id's, an existing file's bytes must stay.
    if (imported?.id && (await this.repo.idTaken(imported.id))) {
      // Read to the end (an admin's import), so the client gets the answer rather than a reset connection.
      part.file.resume();
      await finished(part.file).catch(() => undefined);
      throw conflict('FILE_EXISTS', 'A file with this id already exists');
    }
    const key = requestedKey ?? generatedKey(id, part.filename);
    const ownerId = imported?.ownerId !== undefined ? imported.ownerId : caller.kind === 'user' ? caller.userId : null;
    const keyScope = keyScopeOf(bucket.public, ownerId, 'ready');
    // Checked before reading the body; the unique index decides in the end.
    if (await this.repo.keyTaken(bucket.name, keyScope, key)) throw keyTaken();

    const { head, body } = await peekHead(part.file, SNIFF_BYTES);
    const contentType = await detectContentType(head, part.mimetype);
    if (!mimeTypeAllowed(contentType, bucket.allowedMimeTypes)) {
      body.destroy();
      throw new AppException(415, 'MIME_TYPE_NOT_ALLOWED', `This bucket does not accept ${contentType} files`, [
        { path: 'file', message: `content detected as ${contentType}; allowed: ${bucket.allowedMimeTypes.join(', ')}` },
      ]);
    }
    const objectKey = `${bucket.name}/${id}`;
    const measured = measure(body, this.files.limitOf(bucket));
    await this.driver.put(objectKey, measured.stream, { contentType });
    const { bytes, sha256 } = measured.result();
    return {
      id,
      bucket: bucket.name,
      key,
      keyScope,
      objectKey,
      size: bytes,
      contentType,
      checksum: sha256,
      ownerId,
      aclRead: acl.read,
      aclWrite: acl.write,
      status: 'ready',
      uploadExpiresAt: null,
      ...(imported?.createdAt ? { createdAt: imported.createdAt } : {}),
    };
  }
}

function formField(part: Extract<UploadPart, { type: 'field' }>, key: string | undefined, acl: Acl, imported?: ImportedFile): [string | undefined, Acl] {
  const invalid = (message: string) => validationFailed('The request is not valid', [{ path: part.fieldname, message }]);
  if (typeof part.value !== 'string' || part.valueTruncated) throw invalid('must be a short text field');
  if (part.fieldname === 'key') {
    const parsed = fileKeySchema.safeParse(part.value);
    if (!parsed.success) throw invalid(parsed.error.issues[0]?.message ?? 'is not a valid key');
    return [parsed.data, acl];
  }
  if (part.fieldname === 'acl') {
    let json: unknown;
    try {
      json = JSON.parse(part.value);
    } catch {
      throw invalid('must be JSON: {"read": [...], "write": [...]}');
    }
    const parsed = aclSchema.safeParse(json);
    if (!parsed.success) throw invalid(parsed.error.issues[0]?.message ?? 'is not a valid ACL');
    return [key, parsed.data];
  }
  if (imported && IMPORTED_FIELDS.has(part.fieldname)) {
    const parsed = importedFileField.shape[part.fieldname as keyof ImportedFile].safeParse(part.value);
    if (!parsed.success) throw invalid(parsed.error.issues[0]?.message ?? 'is not valid');
    Object.assign(imported, { [part.fieldname]: parsed.data });
    return [key, acl];
  }
  throw invalid(`unknown field (expected key, acl${imported ? ', id, ownerId, createdAt' : ''}, file)`);
}
