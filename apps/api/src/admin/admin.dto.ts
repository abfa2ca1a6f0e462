import { z } from 'zod';
import { API_KEY_SCOPES } from '../auth/api-key-scopes.js';
import { displayNameSchema, emailSchema, metadataSchema, passwordSchema, userView } from '../auth/auth.dto.js';

export const roleSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be 1-32 lower-case letters, digits, _ or -');

export const listUsersQuery = z.strictObject({
  search: z.string().trim().max(254).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().optional().describe('nextCursor of the previous page (opaque; 400 INVALID_CURSOR when malformed)'),
});
export type ListUsersQuery = z.infer<typeof listUsersQuery>;

export const updateUserBody = z
  .strictObject({
    roles: z.array(roleSchema).max(20).optional(),
    disabled: z.boolean().optional(),
    emailVerified: z.boolean().optional(),
    displayName: displayNameSchema.optional(),
    userMetadata: metadataSchema.optional().describe('replaces the whole object'),
    appMetadata: metadataSchema.optional().describe('replaces the whole object; only admins and the service role set it'),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' });
export type UpdateUserBody = z.infer<typeof updateUserBody>;

/** A user made by an admin (or a function's ctx.auth.create): without a password they sign in by magic link or reset. */
export const createUserBody = z.strictObject({
  email: emailSchema,
  password: passwordSchema.optional().describe('omitted: the user signs in with a magic link or sets one by password reset'),
  roles: z.array(roleSchema).max(20).default([]),
  emailVerified: z.boolean().default(false),
});
export type CreateUserBody = z.infer<typeof createUserBody>;

export const createApiKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z
    .array(z.enum(API_KEY_SCOPES))
    .max(API_KEY_SCOPES.length)
    .default([])
    .transform((list) => [...new Set(list)])
    .describe('empty = full service access; else only the listed areas (collections, storage, functions), and with read-only only GET/HEAD'),
  expiresAt: z.iso
    .datetime({ offset: true })
    .refine((v) => Date.parse(v) > Date.now(), { message: 'must be in the future' })
    .optional()
    .describe('after this instant the key is refused'),
});
export type CreateApiKeyBody = z.infer<typeof createApiKeyBody>;

// ---- Response shapes (OpenAPI only; dates are ISO strings on the wire) ----

export const adminUserView = userView
  .extend({ disabled: z.boolean(), updatedAt: z.iso.datetime() })
  .meta({ id: 'AdminUser', description: 'A user as admins see it' });
export const adminUserList = z.object({ items: z.array(adminUserView), nextCursor: z.string().nullable() }).meta({ id: 'AdminUserList' });

export const apiKeyView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().describe('the first characters of the key, to recognise it'),
    createdBy: z.string().nullable(),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
    scopes: z.array(z.enum(API_KEY_SCOPES)).describe('empty = full service access'),
    expiresAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ApiKey' });
export const apiKeyCreated = apiKeyView
  .extend({ key: z.string().describe('the secret: shown in this answer only') })
  .meta({ id: 'ApiKeyCreated' });
export const apiKeyList = z.object({ items: z.array(apiKeyView), nextCursor: z.null() }).meta({ id: 'ApiKeyList' });

export const revokedView = z.object({ revoked: z.number().int().describe('sessions ended') }).meta({ id: 'SessionsRevoked' });
