export * from './event-types.js';
export { outboxCte, outboxEvented, runWithOutbox, writeOutbox } from './outbox.js';
export { OUTBOX_CHANNEL } from './outbox-wakeup.js';
export { hasSubscriberSql, subscriptionKey, type SubscriptionKey } from './subscriptions.js';
