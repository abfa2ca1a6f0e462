import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { AppException, validationFailed } from '../common/app-exception.js';

/** One part of a multipart/form-data upload, as the storage service reads it. */
export type UploadPart =
  | { type: 'field'; fieldname: string; value: unknown; valueTruncated: boolean }
  | { type: 'file'; fieldname: string; filename: string; mimetype: string; file: Readable };

/** @fastify/multipart's errors (and busboy's) as the api's error codes; undefined for anything else. */
export function multipartError(err: unknown): AppException | undefined {
  if (err instanceof AppException || typeof err !== 'object' || err === null) return undefined;
  const code = 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  switch (code) {
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppException(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the file as multipart/form-data');
    case 'FST_FILES_LIMIT':
      return new AppException(400, 'TOO_MANY_FILES', 'Send exactly one file per request');
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new AppException(400, 'TOO_MANY_PARTS', 'The form has too many fields');
    case 'FST_PROTO_VIOLATION':
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return validationFailed('A form field is not allowed');
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppException(413, 'FILE_TOO_LARGE', 'The file is larger than this bucket allows');
    case 'FST_MP_PREMATURE_CLOSE':
      return new AppException(400, 'UPLOAD_ABORTED', 'The upload ended before the form was complete');
  }
  // busboy: "Unexpected end of form", "Malformed part header", "Multipart: Boundary not found", ...
  if (err instanceof Error && /multipart|boundary|part header|end of form|terminated early/i.test(err.message)) {
    return new AppException(400, 'MALFORMED_MULTIPART', 'The multipart/form-data body is malformed');
  }
  return undefined;
}

/**
 * The parts of a multipart request, streamed: at most one file, a few small fields, and
 * no busboy size limit on the file (the service enforces the bucket's while streaming).
 */
export async function* uploadParts(request: FastifyRequest): AsyncGenerator<UploadPart> {
  try {
    for await (const part of request.parts({
      limits: { files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12, headerPairs: 100, fileSize: Number.MAX_SAFE_INTEGER },
    })) {
      yield part;
    }
  } catch (err) {
    throw multipartError(err) ?? err;
  }
}
