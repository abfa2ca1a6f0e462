import { enc, type Http } from './http.js';
import type { FileInfo, ImportResult, ImportUsersResult, Page, TransferDocument, TransferUser } from './types.js';

/** What a file carries from the installation it was exported from. */
export interface ImportFileInput {
  id: string;
  key: string;
  ownerId: string | null;
  createdAt: string;
  contentType: string;
  acl?: { read?: string[]; write?: string[] };
}

/**
 * Moving an installation's data (what `selfbaas export` / `import` use): users with their
 * password hashes, documents and files with their ids, owners and timestamps. Admin or
 * service key. Existing ids are skipped; nothing runs functions.
 */
export class AdminTransfer {
  constructor(private readonly http: Http) {}

  /** One page of users in id order, with their argon2 password hashes (never a password). */
  users(query: { limit?: number; cursor?: string | null } = {}): Promise<Page<TransferUser>> {
    return this.http.json({ method: 'GET', path: '/v1/admin/transfer/users', query: { limit: query.limit, cursor: query.cursor ?? undefined } });
  }

  /** Every user, page after page. */
  async *allUsers(pageSize = 500): AsyncGenerator<TransferUser, void, undefined> {
    let cursor: string | null = null;
    do {
      const page: Page<TransferUser> = await this.users({ limit: pageSize, cursor });
      yield* page.items;
      cursor = page.nextCursor;
    } while (cursor);
  }

  /**
   * Up to 1000 users as exported; those whose id or email exists are skipped (`emailTaken`:
   * skipped because another account has the email).
   */
  importUsers(users: TransferUser[]): Promise<ImportUsersResult> {
    return this.http.json({ method: 'POST', path: '/v1/admin/transfer/users', body: { users } });
  }

  /** Up to 1000 documents of a collection as exported (system fields kept); existing ids are skipped. */
  importDocuments(collection: string, documents: TransferDocument[]): Promise<ImportResult> {
    return this.http.json({ method: 'POST', path: `/v1/admin/transfer/collections/${enc(collection)}/documents`, body: { documents } });
  }

  /** One file with its id, key, owner, ACL and time kept (409 FILE_EXISTS when the id exists). */
  importFile(bucket: string, bytes: Blob, file: ImportFileInput): Promise<FileInfo> {
    const form = new FormData();
    form.append('id', file.id);
    form.append('key', file.key);
    form.append('ownerId', file.ownerId ?? '');
    form.append('createdAt', file.createdAt);
    if (file.acl) form.append('acl', JSON.stringify({ read: file.acl.read ?? [], write: file.acl.write ?? [] }));
    form.append('file', bytes.type ? bytes : new Blob([bytes], { type: file.contentType }), file.key.split('/').pop() || 'file');
    return this.http.json({ method: 'POST', path: `/v1/admin/transfer/buckets/${enc(bucket)}/files`, body: form, rawBody: true });
  }
}
