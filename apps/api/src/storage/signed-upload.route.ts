import type { Readable } from 'node:stream';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { SIGNED_URL_PATH } from '#libs/storage';
import { AppException } from '../common/app-exception.js';
import { toErrorBody } from '../common/error-response.js';
import { signedQuery } from './storage.dto.js';
import { PresignedUploadService } from './presigned-upload.service.js';

/**
 * `PUT /v1/storage/signed?token=`: the local-disk driver's stand-in for an S3 presigned PUT.
 * It takes a raw body of any content type, streamed, so it is a plain Fastify route in its
 * own plugin scope (a catch-all body parser there that hands over the stream and affects
 * no other route). The token is the credential; no api key or JWT is involved.
 */
@Injectable()
export class SignedUploadRoute implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly presigned: PresignedUploadService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Not awaited: awaiting would make Fastify load its queue now, so every route Nest has
    // declared would capture the error handler of this moment, before Nest installs its own
    // (after the init hooks). Queued, the plugin loads with the others at ready().
    void fastify.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
      scope.setErrorHandler(async (err, request, reply) => {
        const { body, internal } = toErrorBody(err, request.id);
        if (internal) request.log.error({ err }, 'unhandled error');
        return reply.status(body.statusCode).send(body);
      });
      scope.put(SIGNED_URL_PATH, async (request, reply) => {
        const query = signedQuery.safeParse(request.query);
        if (!query.success) throw new AppException(403, 'INVALID_SIGNATURE', 'The signed URL is invalid or has expired');
        const length = request.headers['content-length'];
        const contentLength = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
        // With the catch-all parser above, the body is the request stream itself.
        const body = (request.body ?? request.raw) as Readable;
        const { etag } = await this.presigned.putSigned(query.data.token, body, contentLength);
        return reply.status(200).header('etag', etag).send();
      });
    });
  }
}
