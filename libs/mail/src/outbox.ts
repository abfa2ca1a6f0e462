import type { JobsOptions, Queue } from 'bullmq';
import type { AppConfig } from '#libs/config';
import type { Db } from '#libs/database';
import { EmailJob, type JobData, type JobResult, QueueName } from '#libs/queue';
import { emailRequestSchema, type EmailRequest } from './limits.js';
import { renderTemplate, type TemplateSource } from './render.js';
import { BUILT_IN_TEMPLATES, isBuiltInTemplate } from './templates.js';

export const EmailStatus = { Queued: 'queued', Sent: 'sent', Failed: 'failed' } as const;
export type EmailStatus = (typeof EmailStatus)[keyof typeof EmailStatus];

/** What the outbox reads and writes through: the process's Kysely, or a transaction's (`tx.db`). */
export type EmailDb = Db;

export type EmailQueue = Queue<
  JobData<typeof QueueName.Email, typeof EmailJob.Send>,
  JobResult<typeof QueueName.Email, typeof EmailJob.Send>
>;

/** A send request that cannot be accepted; `code` is the public error code (400). */
export class EmailInputError extends Error {
  override name = 'EmailInputError';
  constructor(
    readonly code: 'VALIDATION_FAILED' | 'UNKNOWN_TEMPLATE',
    message: string,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** A validated, rendered message, ready to be stored. */
export interface ComposedEmail {
  to: string[];
  subject: string;
  text: string | null;
  html: string | null;
  template: string | null;
}

/** The stored template of that name (an admin's override first), or undefined. */
export async function findTemplate(db: EmailDb, name: string): Promise<TemplateSource | undefined> {
  const row = await db.selectFrom('email_templates').select(['subject', 'html', 'text']).where('name', '=', name).executeTakeFirst();
  if (row) return row;
  return isBuiltInTemplate(name) ? BUILT_IN_TEMPLATES[name] : undefined;
}

/** Validates a request (the same rules as POST /v1/email/send) or throws EmailInputError. */
export function parseEmailRequest(input: unknown): EmailRequest {
  const result = emailRequestSchema.safeParse(input);
  if (result.success) return result.data;
  throw new EmailInputError(
    'VALIDATION_FAILED',
    'The email is not valid',
    result.error.issues.slice(0, 50).map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}

/**
 * Validates and renders an email. A template is rendered with its data over the defaults
 * `appName` and `email` (the first recipient); a placeholder without a value renders empty.
 */
export async function composeEmail(db: EmailDb, input: unknown, defaults: { appName: string }): Promise<ComposedEmail> {
  const request = parseEmailRequest(input);
  if (request.template === undefined) {
    return {
      to: request.to,
      subject: request.subject!, // required without a template (checked by the schema)
      text: request.text?.trim() ? request.text : null,
      html: request.html?.trim() ? request.html : null,
      template: null,
    };
  }
  const source = await findTemplate(db, request.template);
  if (!source) {
    throw new EmailInputError('UNKNOWN_TEMPLATE', `There is no email template named "${request.template}"`, [
      { path: 'template', message: 'unknown template' },
    ]);
  }
  const data: Record<string, string> = Object.create(null) as Record<string, string>;
  data.appName = defaults.appName;
  data.email = request.to[0]!;
  Object.assign(data, request.data);
  const rendered = renderTemplate(source, data);
  return {
    to: request.to,
    subject: rendered.subject || request.template,
    text: rendered.text.trim() ? rendered.text : null,
    html: rendered.html.trim() ? rendered.html : null,
    template: request.template,
  };
}

/** Stores a composed email as `queued` (in the caller's transaction when given one). */
export async function insertEmail(db: EmailDb, email: ComposedEmail, createdBy: string): Promise<{ id: string }> {
  return db
    .insertInto('email_messages')
    .values({ recipients: email.to, subject: email.subject, text: email.text, html: email.html, template: email.template, status: EmailStatus.Queued, created_by: createdBy })
    .returning('id')
    .executeTakeFirstOrThrow();
}

/** Job options of an email: jobId = message id (BullMQ de-duplicates), exponential backoff. */
export function emailJobOptions(
  id: string,
  config: Pick<AppConfig, 'EMAIL_MAX_ATTEMPTS' | 'EMAIL_RETRY_BASE_MS'>,
): JobsOptions {
  return {
    jobId: id,
    attempts: config.EMAIL_MAX_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.EMAIL_RETRY_BASE_MS },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** Enqueues the delivery job of a stored email; adding it twice is harmless (same jobId). */
export async function enqueueEmail(
  queue: EmailQueue,
  id: string,
  config: Pick<AppConfig, 'EMAIL_MAX_ATTEMPTS' | 'EMAIL_RETRY_BASE_MS'>,
): Promise<void> {
  await queue.add(EmailJob.Send, { messageId: id }, emailJobOptions(id, config));
}
