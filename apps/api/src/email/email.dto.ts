import { z } from 'zod';
import {
  bodySchema,
  emailRequestSchema,
  MAIL_LIMITS,
  subjectSchema,
  templateDataSchema,
  templateNameSchema,
  templateSourceSchema,
} from '#libs/mail';

/** POST /email/send: `{ to, subject, text?, html? }` or `{ to, template, data? }` (rules in libs/mail). */
export const sendEmailBody = emailRequestSchema;

export const messageIdParam = z.uuid();
export const templateNameParam = templateNameSchema;

export const listMessagesQuery = z.strictObject({
  status: z.enum(['queued', 'sent', 'failed']).optional(),
  to: z
    .email()
    .max(MAIL_LIMITS.addressLength)
    .transform((v) => v.toLowerCase())
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().optional().describe('nextCursor of the previous page (opaque; 400 INVALID_CURSOR when malformed)'),
});
export type ListMessagesQuery = z.output<typeof listMessagesQuery>;

/** PUT /email/templates/:name */
export const putTemplateBody = templateSourceSchema;

/** POST /email/templates/:name/preview: optional data, optionally an unsaved draft of the template. */
export const previewTemplateBody = z.strictObject({
  data: templateDataSchema.optional(),
  draft: z.strictObject({ subject: subjectSchema, html: bodySchema, text: bodySchema }).optional(),
});
export type PreviewTemplateBody = z.output<typeof previewTemplateBody>;

// ---- Response shapes (OpenAPI only; dates are ISO strings on the wire) ----

const timestamp = z.iso.datetime();

export const queuedView = z.object({ id: z.uuid(), status: z.literal('queued') }).meta({ id: 'EmailQueued' });

export const messageSummaryView = z.object({
  id: z.uuid(),
  to: z.array(z.string()),
  subject: z.string(),
  template: z.string().nullable(),
  status: z.enum(['queued', 'sent', 'failed']),
  attempts: z.number().int(),
  messageId: z.string().nullable().describe('Message-ID header of the sent message'),
  response: z.string().nullable().describe('Last SMTP reply'),
  error: z.string().nullable().describe('Last delivery error'),
  rejected: z.array(z.string()).describe('Recipients the server refused'),
  createdBy: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
  lastAttemptAt: timestamp.nullable(),
  sentAt: timestamp.nullable(),
}).meta({ id: 'EmailMessageSummary' });

export const messageView = messageSummaryView
  .extend({ text: z.string().nullable(), html: z.string().nullable() })
  .meta({ id: 'EmailMessage' });

export const messageListView = z
  .object({ items: z.array(messageSummaryView), nextCursor: z.string().nullable() })
  .meta({ id: 'EmailMessageList' });

export const templateView = z.object({
  name: z.string(),
  subject: z.string(),
  html: z.string(),
  text: z.string(),
  builtIn: z.boolean().describe('One of verification, password-reset, magic-link'),
  overridden: z.boolean().describe('An admin has stored this template (for a built-in: replaced the default)'),
  updatedAt: timestamp.nullable(),
}).meta({ id: 'EmailTemplate' });

export const templateListView = z.object({ items: z.array(templateView), nextCursor: z.null() }).meta({ id: 'EmailTemplateList' });

export const previewView = z.object({
  name: z.string(),
  subject: z.string(),
  html: z.string(),
  text: z.string(),
  data: z.record(z.string(), z.string()).describe('The data the template was rendered with'),
  missing: z.array(z.string()).describe('Placeholders that had no value (rendered empty)'),
}).meta({ id: 'EmailPreview' });
