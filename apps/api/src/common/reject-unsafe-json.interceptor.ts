import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { validationFailed } from './app-exception.js';
import { findUnsafeJson } from './safe-json.js';

/**
 * Rejects a JSON body, query or path parameter holding `__proto__`, `constructor` or
 * `prototype` anywhere, nested too deep, or with a value Postgres cannot store (U+0000, a
 * lone surrogate, a non-finite number) with 400 VALIDATION_FAILED naming the path. It runs
 * on every route before the validation pipe (which would otherwise silently delete those
 * keys and store the rest: the client must learn that its body was refused), so no route
 * can pass such a value on to the database.
 */
@Injectable()
export class RejectUnsafeJsonInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    for (const value of [request.body, request.query, request.params]) {
      const issue = findUnsafeJson(value);
      if (issue) {
        throw validationFailed('The request is not valid', [{ path: issue.path.join('.'), message: issue.message }]);
      }
    }
    return next.handle();
  }
}
