import { HttpException } from '@nestjs/common';

export interface ErrorDetail {
  path?: string;
  message: string;
}

/** An HTTP error with a stable machine-readable `code` (see docs/api.md, "Errors"). */
export class AppException extends HttpException {
  constructor(
    status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    /** Response headers that belong with this error, e.g. Retry-After on a 429. */
    readonly headers?: Record<string, string>,
  ) {
    super(message, status);
  }
}

/** The `code` for an HttpException that was thrown without one. */
export const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'RANGE_NOT_SATISFIABLE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  500: 'INTERNAL_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

// Factories for the answers thrown most often, so a code is spelled in one place.
// Not-found rule (docs/api.md, "Errors"): a missing resource named in the path answers
// `<RESOURCE>_NOT_FOUND` (COLLECTION_, DOCUMENT_, BUCKET_, FILE_, FUNCTION_, RUN_, ...);
// plain `NOT_FOUND` is only for a route that does not exist.

export function validationFailed(message: string, details?: ErrorDetail[]): AppException {
  return new AppException(400, 'VALIDATION_FAILED', message, details);
}

export function notFound(code: `${string}_NOT_FOUND`, message: string): AppException {
  return new AppException(404, code, message);
}

export function forbidden(message: string, code = 'FORBIDDEN'): AppException {
  return new AppException(403, code, message);
}

export function conflict(code: string, message: string): AppException {
  return new AppException(409, code, message);
}
