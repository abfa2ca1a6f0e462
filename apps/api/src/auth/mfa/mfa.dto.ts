import { z } from 'zod';
import { authResult } from '../auth.dto.js';

/** A 6-digit TOTP code, or a recovery code (xxxx-xxxx-xxxx). */
export const mfaCode = z.string().trim().min(6).max(32).regex(/^[0-9A-Za-z -]+$/, 'must be a 6-digit code or a recovery code');
export const mfaCodeBody = z.strictObject({ code: mfaCode });
export const mfaVerifyBody = z.strictObject({ challengeToken: z.string().regex(/^mc_[A-Za-z0-9_-]{20,100}$/, 'must be a challenge token'), code: mfaCode });

// ---- Response shapes (OpenAPI only) ----

export const mfaChallengeView = z
  .object({
    mfaRequired: z.literal(true),
    challengeToken: z.string().describe('answer it with POST /auth/mfa/verify within expiresIn seconds'),
    factors: z.array(z.literal('totp')),
    expiresIn: z.number().int(),
    redirectTo: z.string().optional(),
  })
  .meta({ id: 'MfaChallenge', description: 'The account has a second factor: no tokens yet' });
export const mfaStatusView = z
  .object({
    totp: z.object({ enabled: z.boolean(), pending: z.boolean().describe('enrolled, not confirmed yet') }),
    recoveryCodesLeft: z.number().int(),
  })
  .meta({ id: 'MfaStatus' });
export const totpEnrolmentView = z
  .object({
    secret: z.string().describe('base32, for manual entry'),
    otpauthUrl: z.string(),
    qrCode: z.string().describe('a data: URL of a PNG QR code of otpauthUrl'),
  })
  .meta({ id: 'TotpEnrolment' });
export const recoveryCodesView = z.object({ recoveryCodes: z.array(z.string()).describe('shown this once; each works once') }).meta({ id: 'RecoveryCodes' });

/** What a sign-in answers: tokens, or (the account has a second factor) a challenge. */
export const signInResult = z.union([authResult, mfaChallengeView]).meta({ id: 'SignInResult' });
