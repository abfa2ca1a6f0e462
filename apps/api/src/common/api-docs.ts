import type { ApiHeaderOptions } from '@nestjs/swagger';

/**
 * Headers the OpenAPI document declares on several routes, in one place so that every route
 * describes them the same way (request headers for @ApiHeader, response headers for
 * @ApiResponse({ headers })).
 */
const text = { type: 'string' } as const;

export const ETAG_HEADER = { ETag: { description: 'the version of the returned representation, quoted', schema: text } };
export const LOCATION_HEADER = { Location: { description: 'the URL of the created resource', schema: text } };
export const CONTENT_RANGE_HEADER = {
  'Content-Range': { description: 'the byte range sent, e.g. bytes 0-99/1234 (or bytes */1234 on a 416)', schema: text },
};
export const CONTENT_HEADERS = {
  ...ETAG_HEADER,
  'Accept-Ranges': { description: 'bytes', schema: text },
  'Content-Length': { description: 'bytes in this answer', schema: { type: 'integer' } },
  'Content-Disposition': { description: 'inline, or attachment for active types and ?download=true', schema: text },
};

export const IF_MATCH_HEADER: ApiHeaderOptions = {
  name: 'If-Match',
  required: false,
  description: 'the expected version (the ETag, e.g. "3"); 412 PRECONDITION_FAILED when the document has changed',
};
export const RANGE_HEADERS: ApiHeaderOptions[] = [
  { name: 'Range', required: false, description: 'one byte range, e.g. bytes=0-1023 (206, or 416 when unsatisfiable)' },
  { name: 'If-None-Match', required: false, description: 'an ETag the client holds: 304 when it is still current' },
  { name: 'If-Range', required: false, description: 'an ETag: the Range applies only while it is current' },
];
