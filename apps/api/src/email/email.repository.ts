import { Inject, Injectable } from '@nestjs/common';
import { type Db, KYSELY, Prisma, PrismaService } from '#libs/database';
import { composeEmail, type ComposedEmail, type EmailDb, EmailStatus, insertEmail, type TemplateSource } from '#libs/mail';

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

  /** Newest first; `after` is the (createdAt, id) of the last item of the previous page. */
  listMessages(filter: {
    status?: string;
    to?: string;
    limit: number;
    after?: { createdAt: Date; id: string };
  }): Promise<MessageSummary[]> {
    const where: Prisma.EmailMessageWhereInput = {};
    if (filter.status) where.status = filter.status;
    if (filter.to) where.to = { has: filter.to };
    if (filter.after) {
      const { createdAt, id } = filter.after;
      where.OR = [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: id } }];
    }
    return this.prisma.emailMessage.findMany({
      where,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: filter.limit,
      select: SUMMARY,
    });
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
