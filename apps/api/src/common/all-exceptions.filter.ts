import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppException } from './app-exception.js';
import { toErrorBody } from './error-response.js';

/** Every error answered by a route handler, guard or pipe gets the one error shape. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { body, internal } = toErrorBody(exception, request.id);
    if (internal) request.log.error({ err: exception }, 'unhandled error');
    if (exception instanceof AppException && exception.headers) void reply.headers(exception.headers);
    void reply.status(body.statusCode).send(body);
  }
}
