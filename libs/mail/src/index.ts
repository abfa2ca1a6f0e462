export { escapeHtml, placeholdersOf, renderTemplate, toHeaderText } from './render.js';
export type { RenderedEmail, TemplateData, TemplateSource } from './render.js';
export {
  appNameFrom,
  BUILT_IN_TEMPLATE_NAMES,
  BUILT_IN_TEMPLATES,
  isBuiltInTemplate,
  sampleData,
  type BuiltInTemplateName,
} from './templates.js';
export {
  bodySchema,
  emailAddressSchema,
  emailRequestSchema,
  MAIL_LIMITS,
  recipientsSchema,
  subjectSchema,
  templateDataSchema,
  templateNameSchema,
  templateSourceSchema,
  type EmailRequest,
  type EmailRequestInput,
} from './limits.js';
export {
  createMailer,
  describeDeliveryError,
  messageIdFor,
  type DeliveryFailure,
  type DeliveryResult,
  type MailLog,
  type Mailer,
  type MailerConfig,
  type OutgoingEmail,
} from './mailer.js';
export {
  composeEmail,
  EmailInputError,
  EmailStatus,
  emailJobOptions,
  enqueueEmail,
  findTemplate,
  insertEmail,
  parseEmailRequest,
  type ComposedEmail,
  type EmailDb,
  type EmailQueue,
} from './outbox.js';
