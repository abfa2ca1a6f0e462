import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { Tx } from '#libs/database';
import { appNameFrom, EmailInputError, type EmailQueue, type EmailRequest, enqueueEmail } from '#libs/mail';
import { QueueName } from '#libs/queue';
import { actorLabel, type Caller } from '../auth/caller.js';
import { untilAborted } from '../common/deadline.js';
import { decodeCursor, pageOf } from '../common/paging.js';
import { timeIdCursor, timeIdPosition } from '../common/time-id-cursor.js';
import { AppException, notFound } from '../common/app-exception.js';
import type { ListMessagesQuery } from './email.dto.js';
import { EmailRepository, type MessageDetail, type MessageSummary } from './email.repository.js';

/** What other services queue: a template with its data, or a ready message. */
export type EmailInput =
  | { to: string | string[]; template: string; data: Record<string, string> }
  | { to: string | string[]; subject: string; text?: string; html?: string };

/** How long dispatch() waits for Redis before leaving the email to the worker's sweeper. */
const DISPATCH_TIMEOUT_MS = 2_000;

/**
 * The email outbox. Every email is a row first (`queued`), then a BullMQ job (jobId = row
 * id) that the worker delivers with retries. Other modules (auth) inject this service:
 *
 *   const { id } = await email.queue({ to, template: 'verification', data: { link } }, tx);
 *   // ...after the transaction commits:
 *   await email.dispatch(id);
 */
@Injectable()
export class EmailService {
  private readonly logger = new Logger(EmailService.name);
  private readonly appName: string;

  constructor(
    private readonly repo: EmailRepository,
    @InjectQueue(QueueName.Email) private readonly jobs: EmailQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.appName = appNameFrom(config.MAIL_FROM, config.PUBLIC_URL);
  }

  /**
   * Validates, renders and stores an email as `queued`. With `tx` the row is written in
   * the caller's transaction (so it exists exactly when the caller's change commits) and
   * the caller calls dispatch(id) after the commit; without `tx` it is dispatched here.
   * Throws AppException 400 (VALIDATION_FAILED, UNKNOWN_TEMPLATE) for a bad request.
   */
  async queue(
    input: EmailInput | EmailRequest,
    tx?: Tx,
    options: { createdBy?: string } = {},
  ): Promise<{ id: string }> {
    let id: string;
    try {
      ({ id } = await this.repo.queue(input, { appName: this.appName }, options.createdBy ?? 'system', tx?.db));
    } catch (err) {
      if (err instanceof EmailInputError) throw new AppException(400, err.code, err.message, err.details);
      throw err;
    }
    if (!tx) await this.dispatch(id);
    return { id };
  }

  /**
   * Enqueues the delivery job of a stored email. Never throws: if Redis does not answer in
   * time, the email stays `queued` and the worker's sweeper enqueues it later (BullMQ
   * de-duplicates by jobId, so a late second add is harmless).
   */
  async dispatch(id: string): Promise<void> {
    try {
      await untilAborted(enqueueEmail(this.jobs, id, this.config), AbortSignal.timeout(DISPATCH_TIMEOUT_MS), `no answer from Redis within ${DISPATCH_TIMEOUT_MS} ms`);
    } catch (err) {
      this.logger.warn(`email ${id} stays queued for the worker's sweeper: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** POST /email/send */
  async send(request: EmailRequest, caller: Caller): Promise<{ id: string; status: 'queued' }> {
    const { id } = await this.queue(request, undefined, { createdBy: actorLabel(caller) });
    return { id, status: 'queued' };
  }

  async listMessages(query: ListMessagesQuery): Promise<{ items: MessageSummary[]; nextCursor: string | null }> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, timeIdPosition);
    const rows = await this.repo.listMessages({ status: query.status, to: query.to, limit: query.limit + 1, after });
    return pageOf(rows, query.limit, timeIdCursor);
  }

  async getMessage(id: string): Promise<MessageDetail> {
    const message = await this.repo.findMessage(id);
    if (!message) throw notFound('EMAIL_NOT_FOUND', 'There is no email with this id');
    return message;
  }

  /** Sends a `failed` email again, with a fresh set of attempts. */
  async retry(id: string): Promise<MessageDetail> {
    if (!(await this.repo.requeueFailed(id))) {
      const message = await this.getMessage(id);
      throw new AppException(409, 'NOT_FAILED', `Only a failed email can be retried; this one is ${message.status}`);
    }
    // The failed job keeps its id in Redis for a while; remove it so the new one is not de-duplicated away.
    await this.jobs.remove(id).catch(() => undefined);
    await this.dispatch(id);
    return this.getMessage(id);
  }
}
