import type { LoggerService } from '@nestjs/common';
import { type DestinationStream, pino, type Logger, type LoggerOptions } from 'pino';
import { redactText, redactUrl } from './redact.js';

/**
 * One JSON logger per process; secrets in headers never reach the log, nor do secret query
 * parameters (email-link tokens, OAuth codes and states, signatures) of a logged URL or message. `destination` is
 * stdout unless given (tests read a worker's lines from a stream of their own).
 */
export function createLogger(level: string, name: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    name,
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { method?: string; url?: string; host?: string; ip?: string; remoteAddress?: string }) => ({
        method: req.method,
        url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
        host: req.host,
        remoteAddress: req.ip ?? req.remoteAddress,
      }),
    },
    hooks: {
      // Messages can carry a URL too (Fastify's "Route GET:/x?token=… not found").
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg)) as Parameters<typeof method>);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * A message for the Nest logger: text, an Error, or structured fields with `msg`
 * (`logger.warn({ msg: 'run is dead', runId })`), which become fields of the JSON line.
 */
function parts(message: unknown, context: string | undefined): [Record<string, unknown>, string] {
  if (message !== null && typeof message === 'object' && !(message instanceof Error) && typeof (message as { msg?: unknown }).msg === 'string') {
    const { msg, ...fields } = message as { msg: string } & Record<string, unknown>; // checked just above
    return [{ context, ...fields }, msg];
  }
  return [{ context }, String(message)];
}

/** Nest's LoggerService over pino, so framework and request logs share one format. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info(...parts(message, context));
  }
  error(message: unknown, stackOrContext?: string, context?: string): void {
    const err = message instanceof Error ? message : undefined;
    if (err) this.logger.error({ context: context ?? stackOrContext, err }, err.message);
    else this.logger.error(...parts(message, context ?? stackOrContext));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn(...parts(message, context));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug(...parts(message, context));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace(...parts(message, context));
  }
  fatal(message: unknown, context?: string): void {
    this.logger.fatal(...parts(message, context));
  }
}
