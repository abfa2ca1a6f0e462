export { createLogger, PinoNestLogger } from './logger.js';
export type { Logger } from 'pino';
export { redactText, redactUrl } from './redact.js';
