import { z } from 'zod';

/** Emails are compared and stored trimmed and lower-cased. */
export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: 'must be an email address' }));

/** The minimum password policy: 8-256 characters (the upper bound caps hashing cost). */
export const passwordSchema = z.string().min(8, 'must be at least 8 characters').max(256);

/** Opaque tokens: a string of the expected alphabet and length, never an object or array. */
export const opaqueTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{20,200}$/, 'must be a token string');

export const signupBody = z.strictObject({ email: emailSchema, password: passwordSchema });
export const loginBody = z.strictObject({ email: emailSchema, password: z.string().min(1).max(256) });
export const refreshBody = z.strictObject({ refreshToken: opaqueTokenSchema });
export const tokenBody = z.strictObject({ token: opaqueTokenSchema });
export const emailBody = z.strictObject({ email: emailSchema });
export const passwordResetBody = z.strictObject({ token: opaqueTokenSchema, password: passwordSchema });
export const updateMeBody = z.strictObject({ currentPassword: z.string().min(1).max(256), password: passwordSchema });
export const idParam = z.uuid({ message: 'must be a UUID' });

export type SignupBody = z.infer<typeof signupBody>;
export type LoginBody = z.infer<typeof loginBody>;

/** The public view of a user: never a hash or a token. */
export const userView = z.object({
  id: z.uuid(),
  email: z.string(),
  emailVerified: z.boolean(),
  roles: z.array(z.string()),
  createdAt: z.iso.datetime(),
}).meta({ id: 'User' });
export type UserView = z.infer<typeof userView>;

export const authResult = z.object({
  user: userView,
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number().int().describe('seconds until the access token expires'),
}).meta({ id: 'AuthTokens' });
export type AuthResult = z.infer<typeof authResult>;

// ---- Response shapes (OpenAPI only; dates are ISO strings on the wire) ----

export const sessionView = z
  .object({
    id: z.uuid(),
    userAgent: z.string().nullable(),
    ip: z.string().nullable(),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    current: z.boolean().describe('the session of the access token that asked'),
  })
  .meta({ id: 'Session' });
export const sessionList = z.object({ items: z.array(sessionView), nextCursor: z.null() }).meta({ id: 'SessionList' });
export const acceptedView = z.object({ status: z.literal('accepted') }).meta({ id: 'Accepted' });
export const revokedView = z.object({ revoked: z.number().int().describe('sessions ended') }).meta({ id: 'Revoked' });

export function toUserView(user: { id: string; email: string; emailVerified: boolean; roles: string[]; createdAt: Date }): UserView {
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.emailVerified,
    roles: user.roles,
    createdAt: user.createdAt.toISOString(),
  };
}
