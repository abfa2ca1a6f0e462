import { z } from 'zod';
import { roleSchema } from '../admin/admin.dto.js';

/**
 * An argon2 hash in PHC format, as the api stores passwords (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`).
 * Nothing else is accepted: a plain password or another scheme would let no one sign in.
 */
const ARGON2_PHC = /^\$argon2(id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

export const exportUsersQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(500),
  cursor: z.string().optional().describe('nextCursor of the previous page (opaque; 400 INVALID_CURSOR when malformed)'),
});
export type ExportUsersQuery = z.infer<typeof exportUsersQuery>;

export const transferUser = z
  .strictObject({
    id: z.uuid(),
    email: z.email().max(254),
    passwordHash: z
      .string()
      .max(512)
      .regex(ARGON2_PHC, 'must be an argon2 hash in PHC format')
      .nullable()
      .describe('argon2 hash (PHC); null = no password (magic link or reset to sign in)'),
    emailVerified: z.boolean(),
    roles: z.array(roleSchema).max(20),
    disabled: z.boolean(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'TransferUser', description: 'A user as export/import moves it: never a password, only its argon2 hash' });
export type TransferUser = z.infer<typeof transferUser>;

export const transferUserList = z.object({ items: z.array(transferUser), nextCursor: z.string().nullable() }).meta({ id: 'TransferUserList' });

export const importUsersBody = z.strictObject({ users: z.array(transferUser).min(1).max(1000) });

/** A document as exported: its fields beside the system fields (as GET answers it with the service key). */
export const transferDocument = z
  .looseObject({
    id: z.uuid(),
    ownerId: z.uuid().nullable().default(null),
    acl: z.unknown().optional(),
    version: z.number().int().min(1).default(1),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'TransferDocument' });

export const importDocumentsBody = z.strictObject({ documents: z.array(transferDocument).min(1).max(1000) });

export const importResult = z
  .object({
    created: z.number().int().describe('rows written'),
    skipped: z.array(z.uuid()).describe('ids that already existed (left as they are)'),
  })
  .meta({ id: 'ImportResult' });
export type ImportResult = z.infer<typeof importResult>;

export const importUsersResult = importResult
  .extend({ emailTaken: z.array(z.uuid()).describe('skipped because another account (another id) has the email: their documents and files keep an owner id that is no user here') })
  .meta({ id: 'ImportUsersResult' });
