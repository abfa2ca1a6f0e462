import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '#libs/database';
import type { CollectionDef } from '../collections/definition.js';
import { tableOf } from '../collections/sql.js';
import type { Acl } from '../collections/values.js';
import type { TransferUser } from './transfer.dto.js';

interface UserRow {
  id: string;
  email: string;
  password_hash: string | null;
  email_verified: boolean;
  roles: string[];
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface ImportedDocument {
  id: string;
  data: Record<string, unknown>;
  ownerId: string | null;
  acl: Acl | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** The queries of export/import: rows as they are, ids and timestamps kept, no outbox events. */
@Injectable()
export class TransferRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** Users in id order, after `cursor`. */
  async users(limit: number, cursor: string | undefined): Promise<TransferUser[]> {
    const { rows } = await this.pool.query<UserRow>(
      `SELECT id, email, password_hash, email_verified, roles, disabled, created_at, updated_at
         FROM users WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
      [cursor ?? null, limit],
    );
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
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO users (id, email, password_hash, email_verified, roles, disabled, created_at, updated_at)
       SELECT u.id, lower(u.email), u.password_hash, u.email_verified, ARRAY(SELECT jsonb_array_elements_text(u.roles)), u.disabled, u.created_at, u.updated_at
         FROM jsonb_to_recordset($1::jsonb) AS u(id uuid, email text, password_hash text, email_verified boolean, roles jsonb, disabled boolean, created_at timestamptz, updated_at timestamptz)
       ON CONFLICT DO NOTHING
       RETURNING id`,
      [
        JSON.stringify(
          users.map((u) => ({
            id: u.id,
            email: u.email,
            password_hash: u.passwordHash,
            email_verified: u.emailVerified,
            roles: u.roles,
            disabled: u.disabled,
            created_at: u.createdAt,
            updated_at: u.updatedAt,
          })),
        ),
      ],
    );
    return rows.map((r) => r.id);
  }

  /** Of these ids, those that are users. */
  async existingUserIds(ids: string[]): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM users WHERE id = ANY($1::uuid[])', [ids]);
    return new Set(rows.map((r) => r.id));
  }

  async audit(event: string, actor: string, data: Record<string, unknown>): Promise<void> {
    await this.pool.query('INSERT INTO audit_logs (event, actor, data) VALUES ($1, $2, $3::jsonb)', [event, actor, JSON.stringify(data)]);
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
