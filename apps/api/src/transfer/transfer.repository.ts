import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { type Db, KYSELY, PG_POOL } from '#libs/database';
import type { CollectionDef } from '../collections/definition.js';
import { tableOf } from '../collections/sql.js';
import type { Acl } from '../collections/values.js';
import type { TransferUser } from './transfer.dto.js';

export interface ImportedDocument {
  id: string;
  data: Record<string, unknown>;
  ownerId: string | null;
  acl: Acl | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * The queries of export/import: rows as they are, ids and timestamps kept, no outbox events.
 * System tables through Kysely; documents into their runtime collection table by hand-built SQL.
 */
@Injectable()
export class TransferRepository {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(KYSELY) private readonly db: Db,
  ) {}

  /** Users in id order, after the id `after`. */
  async users(limit: number, after: string | undefined): Promise<TransferUser[]> {
    let query = this.db
      .selectFrom('users')
      .select(['id', 'email', 'password_hash', 'email_verified', 'roles', 'disabled', 'created_at', 'updated_at']);
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.orderBy('id').limit(limit).execute();
    return rows.map((r) => ({
      id: r.id,
      email: r.email,
      passwordHash: r.password_hash,
      emailVerified: r.email_verified,
      roles: r.roles,
      disabled: r.disabled,
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
    }));
  }

  /** Inserts users that exist neither by id nor by email; answers the ids written. */
  async insertUsers(users: TransferUser[]): Promise<string[]> {
    if (users.length === 0) return [];
    const rows = await this.db
      .insertInto('users')
      .values(
        users.map((u) => ({
          id: u.id,
          email: u.email.toLowerCase(),
          password_hash: u.passwordHash,
          email_verified: u.emailVerified,
          roles: u.roles,
          disabled: u.disabled,
          created_at: u.createdAt,
          updated_at: u.updatedAt,
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  /** Of these ids, those that are users. */
  async existingUserIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.selectFrom('users').select('id').where('id', 'in', ids).execute();
    return new Set(rows.map((r) => r.id));
  }

  async audit(event: string, actor: string, data: Record<string, unknown>): Promise<void> {
    await this.db.insertInto('audit_logs').values({ event, actor, data: JSON.stringify(data) }).execute();
  }

  /** Inserts documents whose id is free, in one statement; answers the ids written. */
  async insertDocuments(def: CollectionDef, docs: ImportedDocument[]): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO ${tableOf(def.name)} (id, data, owner_id, acl, version, created_at, updated_at)
       SELECT d.id, d.data, d.owner_id, d.acl, d.version, d.created_at, d.updated_at
         FROM jsonb_to_recordset($1::jsonb) AS d(id uuid, data jsonb, owner_id uuid, acl jsonb, version integer, created_at timestamptz, updated_at timestamptz)
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [
        JSON.stringify(
          docs.map((d) => ({
            id: d.id,
            data: d.data,
            owner_id: d.ownerId,
            acl: d.acl,
            version: d.version,
            created_at: d.createdAt,
            updated_at: d.updatedAt,
          })),
        ),
      ],
    );
    return rows.map((r) => r.id);
  }
}
