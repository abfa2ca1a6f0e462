import fresh from 'fresh';

/**
 * Conditional GETs (RFC 9110, 13.1), decided by `fresh`: documents, storage content and the
 * gateway's ETags all answer 304 through here.
 */

/** Whether an `If-None-Match` header names this strong ETag (its weak form, a list holding it, or `*`). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  return ifNoneMatch !== undefined && ifNoneMatch !== '' && fresh({ 'if-none-match': ifNoneMatch }, { etag });
}

/**
 * Whether a response with these validators is not modified for the request: If-None-Match
 * against `etag` when the request sends it, else If-Modified-Since against `lastModified`
 * (HTTP dates, whole seconds). A request without a validator, or with If-None-Match against a
 * response without an ETag, is never fresh.
 */
export function notModified(request: { ifNoneMatch?: string; ifModifiedSince?: string }, etag: string | undefined, lastModified: string | undefined): boolean {
  if (request.ifNoneMatch !== undefined && etag === undefined) return false;
  return fresh({ 'if-none-match': request.ifNoneMatch, 'if-modified-since': request.ifModifiedSince }, { etag, 'last-modified': lastModified });
}
