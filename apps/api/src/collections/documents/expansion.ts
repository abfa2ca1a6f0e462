import { Injectable } from '@nestjs/common';
import type { Tx } from '#libs/database';
import { type Caller, isAdmin } from '../../auth/caller.js';
import { CollectionsService } from '../collections.service.js';
import { type CollectionDef, USERS_TARGET } from '../definition.js';
import { UUID } from '../values.js';
import { type Doc, toDoc } from './doc-view.js';
import { DocumentsRepository } from './documents.repository.js';

/**
 * Expansion (`expand=`): a reference field's id replaced by the document it names, as a read
 * of it by the same caller would show it, or by null when they may not read it (exactly as
 * when it is missing). References to `users` expand to `{ id, email }`, for the user
 * themselves and for admins only. One query per expanded field, whatever the page size.
 */
@Injectable()
export class DocumentExpansion {
  constructor(
    private readonly collections: CollectionsService,
    private readonly repo: DocumentsRepository,
  ) {}

  /** Expands the reference fields `names` (checked by readShape) of `docs` in place; reads run in `tx` when given (a batch). */
  async expand(caller: Caller, def: CollectionDef, docs: Doc[], names: string[], tx?: Tx): Promise<Doc[]> {
    for (const name of names) {
      const field = def.fields.find((f) => f.name === name)!;
      const ids = [...new Set(docs.map((d) => d[name]).filter((v): v is string => typeof v === 'string' && UUID.test(v)))];
      const found = new Map<string, unknown>();
      if (field.collection === USERS_TARGET) {
        // Users are readable by themselves and by admins only.
        const visible = isAdmin(caller) ? ids : caller.kind === 'user' ? ids.filter((i) => i === caller.userId) : [];
        for (const user of await this.repo.usersByIds(tx?.db ?? this.repo.readDb, visible)) found.set(user.id, user);
      } else {
        const target = await this.collections.definition(field.collection!);
        if (target) for (const row of await this.repo.findReadableMany(tx?.client ?? this.repo.readPool, target, caller, ids)) found.set(row.id, toDoc(target, row));
      }
      for (const doc of docs) {
        if (Object.hasOwn(doc, name)) doc[name] = found.get(doc[name] as string) ?? null;
      }
    }
    return docs;
  }
}
