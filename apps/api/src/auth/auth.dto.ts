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

/** Free-form JSON of a user (profile data the user edits, or app data only admins set), at most 16 KiB. */
export const METADATA_MAX_BYTES = 16 * 1024;
export const metadataSchema = z
  // Values are whatever JSON the body held (z.unknown: a recursive JSON schema makes the SDK's generated types circular).
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'keys must be field names'), z.unknown())
  .refine((v) => Buffer.byteLength(JSON.stringify(v)) <= METADATA_MAX_BYTES, { message: `must be at most ${METADATA_MAX_BYTES} bytes of JSON` });
export const displayNameSchema = z.string().trim().min(1).max(100).nullable();

export const signupBody = z.strictObject({ email: emailSchema, password: passwordSchema });
export const loginBody = z.strictObject({ email: emailSchema, password: z.string().min(1).max(256) });
export const refreshBody = z.strictObject({ refreshToken: opaqueTokenSchema });
export const tokenBody = z.strictObject({ token: opaqueTokenSchema });
export const emailBody = z.strictObject({ email: emailSchema });
export const redirectUrlSchema = z.string().max(2048).describe('where to send the browser afterwards; must be on AUTH_REDIRECT_URLS');
export const magicLinkRequestBody = z.strictObject({ email: emailSchema, redirectTo: redirectUrlSchema.optional() });
export const passwordResetBody = z.strictObject({ token: opaqueTokenSchema, password: passwordSchema });
/** What a user may change about themselves: profile fields, and the password (with the current one). */
export const updateMeBody = z
  .strictObject({
    displayName: displayNameSchema.optional(),
    userMetadata: metadataSchema.optional().describe('replaces the whole object'),
    currentPassword: z.string().min(1).max(256).optional(),
    password: passwordSchema.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' })
  .refine((b) => b.password === undefined || b.currentPassword !== undefined, { message: 'currentPassword is required to change the password', path: ['currentPassword'] });
export type UpdateMeBody = z.infer<typeof updateMeBody>;
/** Deleting one's own account: the password when the account has one (a stolen access token alone must not delete it). */
export const deleteMeBody = z.strictObject({ currentPassword: z.string().min(1).max(256).optional() });
export const emailChangeBody = z.strictObject({ email: emailSchema, currentPassword: z.string().min(1).max(256).optional() });
export const idParam = z.uuid({ message: 'must be a UUID' });

export type SignupBody = z.infer<typeof signupBody>;
export type LoginBody = z.infer<typeof loginBody>;

/** The public view of a user: never a hash or a token. */
export const userView = z.object({
  id: z.uuid(),
  email: z.string(),
  emailVerified: z.boolean(),
  roles: z.array(z.string()),
  isAnonymous: z.boolean().describe('a guest: no credential yet (upgrade with POST /auth/anonymous/upgrade or by linking a provider)'),
  displayName: z.string().nullable(),
  userMetadata: z.record(z.string(), z.unknown()).describe('profile data the user edits'),
  appMetadata: z.record(z.string(), z.unknown()).describe('set by admins and the service role only'),
  createdAt: z.iso.datetime(),
}).meta({ id: 'User' });
export type UserView = z.infer<typeof userView>;

export const authResult = z.object({
  user: userView,
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number().int().describe('seconds until the access token expires'),
  redirectTo: z.string().optional().describe('magic links requested with a redirectTo: where the app continues'),
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

export interface UserViewSource {
  id: string;
  email: string;
  emailVerified: boolean;
  roles: string[];
  isAnonymous: boolean;
  displayName: string | null;
  userMetadata: unknown;
  appMetadata: unknown;
  createdAt: Date;
}

export function toUserView(user: UserViewSource): UserView {
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.emailVerified,
    roles: user.roles,
    isAnonymous: user.isAnonymous,
    displayName: user.displayName,
    userMetadata: asObject(user.userMetadata),
    appMetadata: asObject(user.appMetadata),
    createdAt: user.createdAt.toISOString(),
  };
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}; // a JSON object column
}
