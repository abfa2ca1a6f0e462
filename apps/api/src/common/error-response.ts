import { HttpException } from '@nestjs/common';
import { mapDatabaseError } from '#libs/database';
import { redactText } from '#libs/logging';
import { AppException, CODE_BY_STATUS, type ErrorDetail } from './app-exception.js';

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  details?: ErrorDetail[];
  requestId: string;
}

/** Fastify's own errors (raised before a route handler runs) that clients can cause. */
const FASTIFY_CODES: Record<string, { code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'This content type is not accepted' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON', message: 'The JSON body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', message: 'The request body is not valid JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST', message: 'Content-Length does not match the body' },
};

function fastifyError(err: unknown): { statusCode: number; code: string; message: string } | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err) || typeof err.code !== 'string') return undefined;
  const known = FASTIFY_CODES[err.code];
  if (known) {
    const statusCode = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 400;
    return { statusCode, ...known };
  }
  // A JSON syntax error from Fastify's parser carries statusCode 400 and no FST code.
  if (err instanceof SyntaxError && 'statusCode' in err && err.statusCode === 400) {
    return { statusCode: 400, ...FASTIFY_CODES['FST_ERR_CTP_INVALID_JSON_BODY']! };
  }
  return undefined;
}

/**
 * Turns any thrown value into the public error shape. Unknown errors become a generic 500:
 * no stack trace, SQL or internal path ever reaches the client (`internal` tells the
 * caller to log it).
 */
export function toErrorBody(err: unknown, requestId: string): { body: ErrorBody; internal: boolean } {
  if (err instanceof AppException) {
    const body: ErrorBody = { statusCode: err.getStatus(), code: err.code, message: err.message, requestId };
    if (err.details?.length) body.details = err.details;
    return { body, internal: false };
  }
  if (err instanceof HttpException) {
    // Fastify's own errors (bad JSON, body too large) arrive wrapped by Nest's adapter.
    const fst = fastifyError(err.cause);
    if (fst) return { body: { ...fst, requestId }, internal: false };
    const statusCode = err.getStatus();
    const response = err.getResponse();
    // Nest's "Cannot GET /path?query" names the URL: secret query values never go back in it.
    const message = redactText(
      typeof response === 'object' && response !== null && 'message' in response && typeof response.message === 'string'
        ? response.message
        : err.message,
    );
    const code = CODE_BY_STATUS[statusCode] ?? (statusCode >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST');
    return { body: { statusCode, code, message, requestId }, internal: statusCode >= 500 };
  }
  const db = mapDatabaseError(err);
  if (db) return { body: { statusCode: db.status, code: db.code, message: db.message, requestId }, internal: db.status >= 500 };
  return {
    body: { statusCode: 500, code: 'INTERNAL_ERROR', message: 'An unexpected error occurred', requestId },
    internal: true,
  };
}
