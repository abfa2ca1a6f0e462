import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Observable, tap } from 'rxjs';
import { OutboxUnit, OutboxWakeup } from '#libs/events';

/**
 * When a request wrote outbox events, wakes the outbox relay once it has succeeded (its
 * transaction has committed by then), so events reach functions within milliseconds.
 * Central, so a new kind of event cannot forget it; requests that wrote none send nothing.
 */
@Injectable()
export class OutboxWakeupInterceptor implements NestInterceptor {
  constructor(private readonly wakeup: OutboxWakeup) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    // Subscribing inside unit.run() runs the handler, and all it awaits, in the unit of work.
    return new Observable((subscriber) => {
      const unit = new OutboxUnit();
      return unit.run(() =>
        next
          .handle()
          .pipe(tap({ complete: () => unit.wrote && this.wakeup.wake() }))
          .subscribe(subscriber),
      );
    });
  }
}
