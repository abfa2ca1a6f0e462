export * from './event-types.js';
export { writeOutbox, writeOutboxSql } from './outbox.js';
export { noteOutboxWrite, OUTBOX_CHANNEL, OutboxUnit, OutboxWakeup } from './outbox-wakeup.js';
export { hasSubscriberSql, subscriptionKey, type SubscriptionKey } from './subscriptions.js';
