import { z } from 'zod';
import type { ErrorDetail } from '../common/app-exception.js';
import type { Doc } from '../collections/documents/doc-view.js';
import type { FileView } from '../storage/storage.dto.js';

/**
 * The realtime protocol (docs/realtime.md): JSON text frames both ways. Every client frame may
 * carry a `ref` the answer to it repeats.
 */

const ref = z.string().min(1).max(64).optional();
const subId = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits, _ . : or -');
export const EVENT_ID = /^\d{1,15}-\d{1,15}$/;

export const subscribeFrame = z.strictObject({
  type: z.literal('subscribe'),
  ref,
  /** The client's name for the subscription (unique on the connection); generated when absent. */
  sub: subId.optional(),
  /** The collection whose documents to follow... */
  collection: z.string().min(1).max(64).optional(),
  /** ...or the bucket whose files to follow (files becoming ready, deleted). */
  bucket: z.string().min(1).max(64).optional(),
  /** A filter in the list-query language, as an object or its JSON text. */
  filter: z.union([z.record(z.string(), z.unknown()), z.string().max(8192)]).optional(),
  /** Only this document. */
  id: z.string().max(64).optional(),
  /** `fields=` of a GET: which fields events carry (id and version always). */
  fields: z.array(z.string().max(64)).max(100).optional(),
  /** Resume after this event id (the last one received). */
  since: z.string().regex(EVENT_ID, 'must be an event id such as 1764415123456-0').optional(),
}).refine((f) => (f.collection === undefined) !== (f.bucket === undefined), { message: 'name either a collection or a bucket', path: ['collection'] })
  .refine((f) => f.bucket === undefined || (f.filter === undefined && f.id === undefined && f.fields === undefined), {
    message: 'bucket subscriptions take no filter, id or fields',
    path: ['bucket'],
  });

export const clientFrame = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auth'), ref, token: z.string().min(1).max(4096).optional(), apiKey: z.string().min(1).max(200).optional() }),
  /** A new access token for the same user (the same as an `auth` frame with a token). */
  z.strictObject({ type: z.literal('refresh'), ref, token: z.string().min(1).max(4096) }),
  subscribeFrame,
  z.strictObject({ type: z.literal('unsubscribe'), ref, sub: subId }),
  z.strictObject({ type: z.literal('ping'), ref }),
]);

export type ClientFrame = z.infer<typeof clientFrame>;
export type SubscribeFrame = z.infer<typeof subscribeFrame>;

export type EventKind = 'create' | 'update' | 'delete' | 'leave';

export type ServerFrame =
  | { type: 'welcome'; connectionId: string; pingIntervalMs: number; resumeWindowSeconds: number }
  | { type: 'authed'; ref?: string; caller: 'anonymous' | 'user' | 'service'; userId?: string; expiresAt?: string }
  | { type: 'subscribed'; ref?: string; sub: string; collection?: string; bucket?: string; lastEventId: string }
  | { type: 'unsubscribed'; ref?: string; sub: string }
  | { type: 'event'; sub: string; id: string; event: EventKind; collection: string; documentId: string; document?: Doc }
  | { type: 'event'; sub: string; id: string; event: 'create' | 'delete'; bucket: string; fileId: string; file?: FileView }
  | { type: 'resync'; sub: string; reason: string; lastEventId: string }
  | { type: 'pong'; ref?: string }
  | { type: 'error'; ref?: string; sub?: string; code: string; message: string; details?: ErrorDetail[] };

/** WebSocket close codes of the api (4000-4999 are the application's). */
export const CLOSE = {
  /** Credentials no longer valid: revoked session, disabled user, token not refreshed in time. */
  unauthorized: 4001,
  /** Over REALTIME_MAX_CONNECTIONS_PER_USER. */
  tooManyConnections: 4029,
  /** The client read too slowly: REALTIME_MAX_BUFFER_BYTES reached. */
  slowConsumer: 4008,
  /** Going away (shutdown). */
  goingAway: 1001,
} as const;
