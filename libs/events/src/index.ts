export * from './event-types.js';
export { writeOutbox, writeOutboxSql } from './outbox.js';
export { OUTBOX_CHANNEL, OutboxWakeup } from './outbox-wakeup.js';
