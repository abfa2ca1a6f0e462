import { z } from 'zod';

export const roleSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be 1-32 lower-case letters, digits, _ or -');

export const listUsersQuery = z.strictObject({
  search: z.string().trim().max(254).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.uuid().optional(),
});
export type ListUsersQuery = z.infer<typeof listUsersQuery>;

export const updateUserBody = z
  .strictObject({
    roles: z.array(roleSchema).max(20).optional(),
    disabled: z.boolean().optional(),
    emailVerified: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' });
export type UpdateUserBody = z.infer<typeof updateUserBody>;

export const createApiKeyBody = z.strictObject({ name: z.string().trim().min(1).max(100) });

export const revokedView = z.object({ revoked: z.number().int().describe('sessions ended') });
