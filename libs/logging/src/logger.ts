import type { LoggerService } from '@nestjs/common';
import { type DestinationStream, pino, type Logger, type LoggerOptions } from 'pino';

const TOKEN_PARAM = /([?&](?:access_token|token)=)[^&#]*/gi;

/** Replaces token query parameters in the `req.url` (or `url`) of a log line. */
export function redactUrlTokens(object: Record<string, unknown>): Record<string, unknown> {
  const req = object.req;
  if (req !== null && typeof req === 'object' && typeof (req as { url?: unknown }).url === 'string') {
    const url = (req as { url: string }).url;
    const redacted = url.replace(TOKEN_PARAM, '$1[redacted]');
    if (redacted !== url) return { ...object, req: { ...req, url: redacted } };
  }
  return object;
}

/**
 * One JSON logger per process; secrets in headers never reach the log. `destination` is
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
    // Access tokens in query strings (the realtime SSE endpoint accepts `access_token` for
    // EventSource, which cannot send headers) never reach the log either.
    formatters: { log: redactUrlTokens },
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
