import type { components } from './generated/api.js';

type MfaChallenge = components['schemas']['MfaChallenge'];

/** The error codes the api answers with (the `Error.code` enum of its OpenAPI document). */
export type ErrorCode = components['schemas']['Error']['code'];

export interface ErrorDetail {
  path?: string;
  message: string;
}

/**
 * An error answer of the api: `{ statusCode, code, message, details?, requestId }`.
 * `code` is stable: switch on it, not on the message.
 */
export class BaasError extends Error {
  override readonly name = 'BaasError';
  readonly statusCode: number;
  /** A code of the api (see ErrorCode), or `HTTP_<status>` when a proxy answered without the api's body. */
  readonly code: ErrorCode | `HTTP_${number}`;
  readonly details: ErrorDetail[] | undefined;
  readonly requestId: string | undefined;
  /** Seconds the server asked to wait (Retry-After), on 429 and 503. */
  readonly retryAfter: number | undefined;

  constructor(init: {
    statusCode: number;
    code: ErrorCode | `HTTP_${number}`;
    message: string;
    details?: ErrorDetail[];
    requestId?: string;
    retryAfter?: number;
  }) {
    super(init.message);
    this.statusCode = init.statusCode;
    this.code = init.code;
    this.details = init.details;
    this.requestId = init.requestId;
    this.retryAfter = init.retryAfter;
  }
}

/**
 * A sign-in passed its first factor and the account has a second one: answer `challenge`
 * with `auth.verifyMfa(challenge.challengeToken, code)`.
 */
export class MfaRequiredError extends Error {
  override readonly name = 'MfaRequiredError';
  constructor(readonly challenge: MfaChallenge) {
    super('A second factor is required');
  }
}

/** The request never got an answer from the api: offline, DNS, refused, reset, aborted or timed out. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

export function isBaasError(err: unknown, code?: ErrorCode): err is BaasError {
  return err instanceof BaasError && (code === undefined || err.code === code);
}
