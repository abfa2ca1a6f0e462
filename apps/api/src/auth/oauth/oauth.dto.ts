import { z } from 'zod';
import { opaqueTokenSchema, redirectUrlSchema } from '../auth.dto.js';
import { PROVIDER_KINDS } from './oauth-clients.js';

export const providerIdParam = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be 1-40 lower-case letters, digits or -');

const httpsUrl = z.string().max(2048).refine((v) => URL.canParse(v) && ['https:', 'http:'].includes(new URL(v).protocol), { message: 'must be an http(s) URL' });

/** PUT /admin/auth-providers/:id: the whole setting (the secret may be left out to keep it). */
export const providerBody = z
  .strictObject({
    kind: z.enum(PROVIDER_KINDS),
    issuer: httpsUrl.optional().describe('the OIDC issuer (discovery at <issuer>/.well-known/openid-configuration); required for kind oidc, a preset otherwise'),
    clientId: z.string().trim().min(1).max(512),
    clientSecret: z.string().min(1).max(8192).nullable().optional().describe('write-only: stored encrypted, never returned; left out = keep the stored one; Apple: the PKCS#8 private key'),
    scopes: z.array(z.string().regex(/^[\x21-\x7e]{1,100}$/)).max(20).default([]).describe('empty = the kind\'s defaults'),
    audiences: z.array(z.string().min(1).max(512)).max(10).default([]).describe('other client ids whose ID tokens native sign-in accepts'),
    options: z
      .strictObject({
        tenant: z.string().regex(/^[A-Za-z0-9.-]{1,100}$/).optional().describe('Microsoft: the directory (tenant) id or domain'),
        teamId: z.string().regex(/^[A-Z0-9]{10}$/).optional().describe('Apple: the team id'),
        keyId: z.string().regex(/^[A-Z0-9]{10}$/).optional().describe('Apple: the key id'),
        responseMode: z
          .enum(['query', 'form_post'])
          .optional()
          .describe('how the provider returns to the callback: query (default) or form_post (default for Apple; the callback then takes a form POST)'),
      })
      .default({}),
    enabled: z.boolean().default(true),
  })
  .superRefine((b, ctx) => {
    if (b.kind === 'oidc' && !b.issuer) ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'is required for kind oidc' });
    if (b.kind === 'microsoft' && !b.issuer && !b.options.tenant) ctx.addIssue({ code: 'custom', path: ['options', 'tenant'], message: 'is required for kind microsoft' });
    if (b.kind === 'microsoft' && ['common', 'organizations', 'consumers'].includes(b.options.tenant ?? '')) {
      ctx.addIssue({ code: 'custom', path: ['options', 'tenant'], message: 'must be a specific tenant (multi-tenant issuers cannot be verified)' });
    }
    if (b.kind === 'github' && b.options.responseMode === 'form_post') ctx.addIssue({ code: 'custom', path: ['options', 'responseMode'], message: 'GitHub answers in the query only' });
    if (b.kind === 'apple' && (!b.options.teamId || !b.options.keyId)) ctx.addIssue({ code: 'custom', path: ['options'], message: 'Apple needs teamId and keyId' });
  });
export type ProviderBody = z.infer<typeof providerBody>;

export const authorizeQuery = z.strictObject({ redirectTo: redirectUrlSchema, link: opaqueTokenSchema.optional().describe('set by POST /auth/identities/:provider/link') });
export const linkBody = z.strictObject({ redirectTo: redirectUrlSchema });
/**
 * A provider's form_post answer (POST to the callback). Only these fields travel on; an ID
 * token in the form is not used (the code is exchanged for one, checked against the nonce).
 */
export const formPostBody = z.object({
  code: z.string().max(2048).optional(),
  state: z.string().max(200).optional(),
  iss: z.string().max(2048).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(1000).optional(),
  user: z.string().max(2048).optional().describe('Apple: the user\'s name (JSON), on the first sign-in only'),
});

/** Apple's `user` form field (unsigned: only the name is taken from it, never the email). */
export const appleUserField = z.object({
  name: z.object({ firstName: z.string().max(100).optional(), lastName: z.string().max(100).optional() }).optional(),
});

export const exchangeBody = z.strictObject({ code: opaqueTokenSchema });
export const idTokenBody = z.strictObject({
  idToken: z.string().min(20).max(16_384).regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be a JWT'),
  nonce: z.string().min(1).max(512).optional().describe('the raw nonce the app passed to the provider'),
});

// ---- Response shapes (OpenAPI only) ----

export const providerView = z
  .object({
    id: z.string(),
    kind: z.enum(PROVIDER_KINDS),
    issuer: z.string().nullable(),
    clientId: z.string(),
    hasClientSecret: z.boolean(),
    scopes: z.array(z.string()),
    audiences: z.array(z.string()),
    options: z.record(z.string(), z.string()),
    enabled: z.boolean(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'AuthProvider' });
export const providerList = z.object({ items: z.array(providerView), nextCursor: z.null() }).meta({ id: 'AuthProviderList' });
export const publicProviderList = z
  .object({ items: z.array(z.object({ id: z.string(), kind: z.enum(PROVIDER_KINDS) })), nextCursor: z.null() })
  .meta({ id: 'SignInProviderList' });
export const identityView = z
  .object({
    id: z.uuid(),
    provider: z.string(),
    email: z.string().nullable(),
    emailVerified: z.boolean(),
    createdAt: z.iso.datetime(),
    lastSignInAt: z.iso.datetime(),
  })
  .meta({ id: 'Identity' });
export const identityList = z.object({ items: z.array(identityView), nextCursor: z.null() }).meta({ id: 'IdentityList' });
export const linkStarted = z.object({ url: z.string().describe('open this URL in the browser to link the provider') }).meta({ id: 'LinkStarted' });
