import type { OpenAPIObject } from '@nestjs/swagger';
import { REALTIME_PATH, REALTIME_SSE_PATH } from './realtime.routes.js';

type OperationObject = NonNullable<OpenAPIObject['paths'][string]['get']>;

const CREDENTIALS: Record<string, string[]>[] = [{}, { bearer: [] }, { 'service-key': [] }];
const PROTOCOL = 'Protocol, events, limits and close codes: docs/realtime.md.';

/** `GET /v1/realtime`: the WebSocket upgrade (a plain Fastify route, so no controller describes it). */
const websocket: OperationObject = {
  operationId: 'realtimeWebsocket',
  tags: ['realtime'],
  summary: 'Live queries over a WebSocket (JSON frames: auth, subscribe, unsubscribe, ping)',
  description: `Upgrade to a WebSocket. Credentials: an \`auth\` frame, or the upgrade request's Authorization / x-api-key headers; anonymous otherwise. ${PROTOCOL}\n\nAccess: anyone; every event is checked against the read rules of the subscriber.`,
  security: CREDENTIALS,
  responses: { '101': { description: 'Switching protocols: the WebSocket is open' } },
};

/** `GET /v1/realtime/sse`: one subscription as Server-Sent Events. */
const sse: OperationObject = {
  operationId: 'realtimeSse',
  tags: ['realtime'],
  summary: 'One live query as Server-Sent Events (fallback for clients without WebSocket)',
  description: `The stream's events are the WebSocket protocol's server frames (\`event: <type>\`, \`data: <frame JSON>\`, \`id: <event id>\` on events). ${PROTOCOL}\n\nAccess: anyone; every event is checked against the read rules of the subscriber.`,
  security: CREDENTIALS,
  parameters: [
    { name: 'collection', in: 'query', required: false, schema: { type: 'string', maxLength: 64 }, description: 'the collection (or `bucket`)' },
    { name: 'bucket', in: 'query', required: false, schema: { type: 'string', maxLength: 64 }, description: 'the bucket whose files to follow (or `collection`)' },
    { name: 'filter', in: 'query', required: false, schema: { type: 'string', maxLength: 8192 }, description: 'a filter in the list-query language (JSON)' },
    { name: 'id', in: 'query', required: false, schema: { type: 'string', format: 'uuid' }, description: 'only this document' },
    { name: 'fields', in: 'query', required: false, schema: { type: 'string' }, description: 'projection, as `fields` of a GET' },
    { name: 'since', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d{1,15}-\\d{1,15}$' }, description: 'resume after this event id' },
    { name: 'access_token', in: 'query', required: false, schema: { type: 'string' }, description: 'an access token, for EventSource (which cannot send headers)' },
    { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' }, description: 'resume after this event id (sent by EventSource on reconnect)' },
  ],
  responses: { '200': { description: 'The event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
};

/** Adds the realtime endpoints to the api's OpenAPI document. */
export function addRealtimeOperations(doc: OpenAPIObject): void {
  (doc.paths[REALTIME_PATH] ??= {}).get ??= websocket;
  (doc.paths[REALTIME_SSE_PATH] ??= {}).get ??= sse;
}
