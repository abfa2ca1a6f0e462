export * from './event-types.js';
export { writeOutbox, writeOutboxSql } from './outbox.js';
