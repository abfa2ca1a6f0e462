import { Injectable } from '@nestjs/common';
import { isUniqueViolation } from '#libs/database';
import type { z } from 'zod';
import { actorLabel, type Caller } from '../auth/caller.js';
import { conflict, type ErrorDetail, validationFailed } from '../common/app-exception.js';
import { decodeCursor, pageOf } from '../common/paging.js';
import { CollectionsService } from '../collections/collections.service.js';
import { checkWrite } from '../collections/values.js';
import type { ExportUsersQuery, ImportResult, TransferUser, transferDocument } from './transfer.dto.js';
import { type ImportedDocument, TransferRepository } from './transfer.repository.js';

/** The position of an export cursor: the last user's id. */
function idPosition(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { i } = value as Record<string, unknown>;
  return typeof i === 'string' && /^[0-9a-f-]{36}$/.test(i) ? i : undefined;
}

const SYSTEM_KEYS: ReadonlySet<string> = new Set(['id', 'ownerId', 'acl', 'version', 'createdAt', 'updatedAt']);

/**
 * Moving an installation's data out and in (`selfbaas export` / `import`, docs/cli.md):
 * rows keep their ids, owners and timestamps, existing ids are skipped (an import can be run
 * again), and nothing is announced to functions (no outbox events: moving data is not a change).
 */
@Injectable()
export class TransferService {
  constructor(
    private readonly repo: TransferRepository,
    private readonly collections: CollectionsService,
  ) {}

  /** A page of users with their password hashes; each page is written to the audit log. */
  async exportUsers(caller: Caller, query: ExportUsersQuery): Promise<{ items: TransferUser[]; nextCursor: string | null }> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, idPosition);
    const page = pageOf(await this.repo.users(query.limit + 1, after), query.limit, (last) => ({ i: last.id }));
    await this.repo.audit('users.export', actorLabel(caller), { count: page.items.length, after: after ?? null });
    return page;
  }

  /** Users as exported; `emailTaken` lists those skipped because another account (another id) has their email. */
  async importUsers(caller: Caller, users: TransferUser[]): Promise<ImportResult & { emailTaken: string[] }> {
    duplicates(users.map((u) => u.id), 'users');
    duplicates(users.map((u) => u.email.toLowerCase()), 'users', 'email');
    const written = new Set(await this.repo.insertUsers(users));
    const skipped = users.filter((u) => !written.has(u.id)).map((u) => u.id);
    const present = skipped.length ? await this.repo.existingUserIds(skipped) : new Set<string>();
    await this.repo.audit('users.import', actorLabel(caller), { created: written.size, skipped: skipped.length });
    return { created: written.size, skipped, emailTaken: skipped.filter((id) => !present.has(id)) };
  }

  /** Documents of a collection as exported; each checked against the collection's fields (as a write is), references trusted. */
  async importDocuments(collection: string, documents: z.infer<typeof transferDocument>[]): Promise<ImportResult> {
    const def = await this.collections.require(collection);
    duplicates(documents.map((d) => d.id), 'documents');
    const details: ErrorDetail[] = [];
    const rows: ImportedDocument[] = [];
    documents.forEach((doc, i) => {
      const fields = Object.fromEntries(Object.entries(doc).filter(([key]) => !SYSTEM_KEYS.has(key)));
      // 'patch': the data exactly as exported (no defaults filled in), every value checked.
      const checked = checkWrite(def, { ...fields, ...(doc.acl === undefined ? {} : { acl: doc.acl }) }, 'patch');
      if (!checked.ok) {
        details.push(...checked.details.map((d) => ({ ...d, path: `documents.${i}.${d.path ?? ''}` })));
        return;
      }
      rows.push({ id: doc.id, data: checked.value.set, ownerId: doc.ownerId, acl: checked.value.acl ?? null, version: doc.version, createdAt: doc.createdAt, updatedAt: doc.updatedAt });
    });
    if (details.length > 0) throw validationFailed('Some documents do not fit the collection', details.slice(0, 100));
    try {
      const written = new Set(await this.repo.insertDocuments(def, rows));
      return { created: written.size, skipped: rows.filter((r) => !written.has(r.id)).map((r) => r.id) };
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw conflict('DATA_CONFLICT', 'A document has the value of a unique field that another document already has');
      }
      throw err;
    }
  }
}

function duplicates(values: string[], what: string, field = 'id'): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) throw validationFailed(`Two ${what} with the same ${field}`, [{ path: field, message: `${value} appears twice` }]);
    seen.add(value);
  }
}
