import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { type Observable, tap } from 'rxjs';
import { OutboxWakeup } from '#libs/events';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * After a write request succeeds (its transaction has committed by then), wakes the outbox
 * relay, so events reach functions within milliseconds. Central, so a new kind of event
 * cannot forget it; coalesced by OutboxWakeup, so it costs at most one NOTIFY per round trip.
 */
@Injectable()
export class OutboxWakeupInterceptor implements NestInterceptor {
  constructor(private readonly wakeup: OutboxWakeup) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const method = context.switchToHttp().getRequest<FastifyRequest>().method;
    if (READS.has(method)) return next.handle();
    return next.handle().pipe(tap({ complete: () => this.wakeup.wake() }));
  }
}
