import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { AppConfig } from '#libs/config';

export type MailerConfig = Pick<
  AppConfig,
  'SMTP_HOST' | 'SMTP_PORT' | 'SMTP_USER' | 'SMTP_PASS' | 'SMTP_SECURE' | 'MAIL_FROM' | 'MAIL_DIR'
>;

/** A message as the worker hands it to a mailer (already validated and rendered). */
export interface OutgoingEmail {
  /** The email_messages row id; also makes the Message-ID, stable across retries. */
  id: string;
  to: readonly string[];
  subject: string;
  text?: string | null;
  html?: string | null;
}

export interface DeliveryResult {
  messageId: string;
  /** The server's final reply (`250 ...`), or where the .eml file went. */
  response: string;
  accepted: string[];
  rejected: string[];
}

export interface Mailer {
  /** `smtp` when SMTP_HOST is set, else `file` (.eml files under MAIL_DIR). */
  readonly kind: 'smtp' | 'file';
  send(mail: OutgoingEmail): Promise<DeliveryResult>;
  close(): void;
}

export type MailLog = (message: string, fields: Record<string, unknown>) => void;

/** `<id@domain>` with the domain of MAIL_FROM, so receivers can spot a duplicate delivery. */
export function messageIdFor(id: string, mailFrom: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(mailFrom)?.[1] ?? 'localhost';
  return `<${id}@${domain}>`;
}

function compose(mail: OutgoingEmail, from: string): SendMailOptions {
  return {
    from,
    to: [...mail.to],
    subject: mail.subject,
    text: mail.text ?? undefined,
    html: mail.html ?? undefined,
    messageId: messageIdFor(mail.id, from),
    // Only strings are sent; never let a message make the mailer read files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/**
 * The transport from configuration: SMTP (SMTP_SECURE = TLS from the start, else STARTTLS
 * when the server offers it; AUTH when SMTP_USER is set), or, without SMTP_HOST, a
 * development mailer that writes each message as an .eml file under MAIL_DIR and logs it.
 * One connection per message (no pool): a server that restarts costs no stale connection.
 */
export function createMailer(config: MailerConfig, log: MailLog = () => undefined): Mailer {
  if (config.SMTP_HOST) {
    const transport = nodemailer.createTransport({
      host: config.SMTP_HOST,
      port: config.SMTP_PORT,
      secure: config.SMTP_SECURE,
      auth: config.SMTP_USER ? { user: config.SMTP_USER, pass: config.SMTP_PASS ?? '' } : undefined,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 60_000,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    return {
      kind: 'smtp',
      async send(mail) {
        const info = await transport.sendMail(compose(mail, config.MAIL_FROM));
        return {
          messageId: info.messageId,
          response: info.response,
          accepted: info.accepted,
          rejected: info.rejected,
        };
      },
      close: () => transport.close(),
    };
  }

  const dir = resolve(config.MAIL_DIR);
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    kind: 'file',
    async send(mail) {
      const info = await transport.sendMail(compose(mail, config.MAIL_FROM));
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${mail.id}.eml`);
      await writeFile(file, info.message as Buffer);
      log('email written to a file (SMTP_HOST is not set)', { file, to: mail.to, subject: mail.subject });
      return { messageId: info.messageId, response: `written to ${file}`, accepted: [...mail.to], rejected: [] };
    },
    close: () => transport.close(),
  };
}

export interface DeliveryFailure {
  /** True when sending the same message again would be refused again (5xx except 503). */
  permanent: boolean;
  /** The SMTP reply that refused it, if there was one. */
  response: string | null;
  /** One line for the delivery log. */
  message: string;
}

/** Connection-level and credential problems: the server or our configuration, not the message. */
const TEMPORARY_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS', 'ETLS', 'EPROXY', 'EAUTH', 'ENOAUTH']);
/** Errors about the message itself that no retry can fix. */
const PERMANENT_CODES = new Set(['EENVELOPE', 'EMESSAGE', 'ECONFIG', 'EFILEACCESS', 'EURLACCESS', 'EMAXRECIPIENTS']);

/**
 * Classifies a send error. A 4xx reply, a refused or dropped connection, a timeout and
 * a failed login are temporary (retried with backoff); a 5xx reply to the message
 * (other than 503, "bad sequence") is permanent (recorded as failed, never retried).
 * Anything unknown is treated as temporary: delaying an email is better than losing it.
 */
export function describeDeliveryError(err: unknown): DeliveryFailure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    responseCode?: unknown;
    response?: unknown;
    message?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const response = typeof e.response === 'string' ? e.response.slice(0, 1000) : null;
  const text = typeof e.message === 'string' ? e.message : String(err);
  const message = text.split('\n')[0]!.slice(0, 1000);
  let permanent: boolean;
  if (code && TEMPORARY_CODES.has(code)) permanent = false;
  else if (responseCode !== undefined) permanent = responseCode >= 500 && responseCode < 600 && responseCode !== 503;
  else permanent = code !== undefined && PERMANENT_CODES.has(code);
  return { permanent, response, message };
}
