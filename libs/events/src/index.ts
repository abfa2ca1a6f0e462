export * from './event-types.js';
export { outboxCte, outboxEvented, runWithOutbox, writeOutbox } from './outbox.js';
export { OUTBOX_CHANNEL, OutboxUnit, OutboxWakeup } from './outbox-wakeup.js';
export { hasSubscriberSql, subscriptionKey, type SubscriptionKey } from './subscriptions.js';
