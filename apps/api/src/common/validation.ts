import { StandardSchemaValidationPipe } from '@nestjs/common';
import { AppException } from './app-exception.js';

/**
 * Validates every `@Body/@Query/@Param({ schema })` against its zod schema (Nest 12's
 * Standard Schema support) and answers 400 VALIDATION_FAILED with one detail per issue.
 */
export function createValidationPipe(): StandardSchemaValidationPipe {
  return new StandardSchemaValidationPipe({
    exceptionFactory: (issues) =>
      new AppException(
        400,
        'VALIDATION_FAILED',
        'The request is not valid',
        issues.slice(0, 50).map((issue) => ({
          path: (issue.path ?? []).map((s) => String(typeof s === 'object' ? s.key : s)).join('.'),
          message: issue.message,
        })),
      ),
  });
}
