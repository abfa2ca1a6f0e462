import { Inject, Injectable } from '@nestjs/common';
import { type Db, KYSELY, Prisma, PrismaService } from '#libs/database';
import { composeEmail, type ComposedEmail, type EmailDb, EmailStatus, insertEmail, type TemplateSource } from '#libs/mail';
import type { TimeIdPosition } from '../common/time-id-cursor.js';

const SUMMARY = {
  id: true,
  to: true,
  subject: true,
  template: true,
  status: true,
  attempts: true,
  messageId: true,
  response: true,
  error: true,
  rejected: true,
  createdBy: true,
  createdAt: true,
  updatedAt: true,
  lastAttemptAt: true,
  sentAt: true,
} satisfies Prisma.EmailMessageSelect;

export type MessageSummary = Prisma.EmailMessageGetPayload<{ select: typeof SUMMARY }>;
export type MessageDetail = MessageSummary & { text: string | null; html: string | null };

export interface StoredTemplate extends TemplateSource {
  name: string;
  updatedAt: Date;
}

/** Every query of the email resource. */
@Injectable()
export class EmailRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(KYSELY) private readonly db: Db,
  ) {}

  /** Validates, renders (reading a template override through `db`) and stores a queued email. */
  async queue(input: unknown, defaults: { appName: string }, createdBy: string, db: EmailDb = this.db): Promise<{ id: string }> {
    const composed: ComposedEmail = await composeEmail(db, input, defaults);
    return insertEmail(db, composed, createdBy);
  }

  /** Newest first, keyset-paged: `after` is the (createdAt, id) of the last item of the previous page. */
  async listMessages(filter: { status?: string; to?: string; limit: number; after?: TimeIdPosition }): Promise<MessageSummary[]> {
    let query = this.db
      .selectFrom('email_messages')
      .select([
        'id',
        'recipients',
        'subject',
        'template',
        'status',
        'attempts',
        'message_id',
        'response',
        'error',
        'rejected',
        'created_by',
        'created_at',
        'updated_at',
        'last_attempt_at',
        'sent_at',
      ]);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.to) query = query.where((eb) => eb(eb.val(filter.to), '=', eb.fn.any('recipients')));
    const { after } = filter;
    if (after) {
      query = query.where((eb) => eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]));
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map((r) => ({
      id: r.id,
      to: r.recipients,
      subject: r.subject,
      template: r.template,
      status: r.status,
      attempts: r.attempts,
      messageId: r.message_id,
      response: r.response,
      error: r.error,
      rejected: r.rejected,
      createdBy: r.created_by,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      lastAttemptAt: r.last_attempt_at,
      sentAt: r.sent_at,
    }));
  }

  findMessage(id: string): Promise<MessageDetail | null> {
    return this.prisma.emailMessage.findUnique({ where: { id }, select: { ...SUMMARY, text: true, html: true } });
  }

  /** Puts a failed email back in the queue; false when it is not (or no longer) failed. */
  async requeueFailed(id: string): Promise<boolean> {
    const { count } = await this.prisma.emailMessage.updateMany({
      where: { id, status: EmailStatus.Failed },
      data: { status: EmailStatus.Queued, error: null },
    });
    return count === 1;
  }

  findTemplate(name: string): Promise<StoredTemplate | null> {
    return this.prisma.emailTemplate.findUnique({
      where: { name },
      select: { name: true, subject: true, html: true, text: true, updatedAt: true },
    });
  }

  listTemplates(): Promise<StoredTemplate[]> {
    return this.prisma.emailTemplate.findMany({
      orderBy: { name: 'asc' },
      take: 1000,
      select: { name: true, subject: true, html: true, text: true, updatedAt: true },
    });
  }

  upsertTemplate(name: string, source: TemplateSource, updatedBy: string): Promise<StoredTemplate> {
    const data = { subject: source.subject, html: source.html, text: source.text, updatedBy };
    return this.prisma.emailTemplate.upsert({
      where: { name },
      create: { name, ...data },
      update: data,
      select: { name: true, subject: true, html: true, text: true, updatedAt: true },
    });
  }

  /** False when there was no stored template of that name. */
  async deleteTemplate(name: string): Promise<boolean> {
    const { count } = await this.prisma.emailTemplate.deleteMany({ where: { name } });
    return count === 1;
  }
}
