import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream } from 'smtp-server';

/** A message the sink accepted, parsed enough for assertions. */
export interface ReceivedMail {
  /** SMTP envelope: MAIL FROM and the accepted RCPT TO addresses. */
  envelope: { from: string; to: string[] };
  /** Header values by lower-case name (decoded from RFC 2047 encoded words). */
  headers: Map<string, string[]>;
  subject: string;
  messageId: string;
  text?: string;
  html?: string;
  /** The message exactly as received. */
  raw: string;
}

export interface Rejection {
  code: number;
  message: string;
}

/** An SMTP error with a reply code, as smtp-server expects from a handler. */
function smtpError(rejection: Rejection): Error {
  return Object.assign(new Error(rejection.message), { responseCode: rejection.code });
}

/**
 * A real SMTP server for tests (npm `smtp-server`), on 127.0.0.1. It keeps every accepted
 * message parsed, can stop and start again on the same port (an outage), and can refuse
 * chosen recipients with a permanent 5xx (or any) reply. No TLS and no AUTH: the mailer
 * connects in plain text as to a local mail catcher.
 */
export class SmtpSink {
  readonly messages: ReceivedMail[] = [];
  /** RCPT TO addresses (lower-case) refused, with the reply; applies until removed. */
  readonly rejectRecipients = new Map<string, Rejection>();
  /** When set, every recipient is refused with this reply (e.g. `{ code: 550, ... }`). */
  rejectAll?: Rejection;
  /** Every refused RCPT TO, in order. */
  readonly refused: { address: string; code: number }[] = [];
  port = 0;
  private server?: SMTPServer;
  private readonly waiters = new Set<() => void>();

  async start(port = this.port): Promise<number> {
    const server = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      disableReverseLookup: true,
      closeTimeout: 200,
      size: 10 * 1024 * 1024,
      onRcptTo: (address: SMTPServerAddress, _session, callback) => {
        const rejection = this.rejectAll ?? this.rejectRecipients.get(address.address.toLowerCase());
        if (!rejection) return callback();
        this.refused.push({ address: address.address, code: rejection.code });
        callback(smtpError(rejection));
      },
      onData: (stream: SMTPServerDataStream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('latin1');
          const envelope = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          };
          this.messages.push(parseMail(raw, envelope));
          for (const wake of this.waiters) wake();
          callback(null, 'OK: queued by the test sink');
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Stops listening and drops open connections: clients get "connection refused". */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Forgets received messages, refusals and rejection rules. */
  clear(): void {
    this.messages.length = 0;
    this.refused.length = 0;
    this.rejectRecipients.clear();
    this.rejectAll = undefined;
  }

  /** Messages delivered to an address (envelope recipient). */
  to(address: string): ReceivedMail[] {
    const wanted = address.toLowerCase();
    return this.messages.filter((m) => m.envelope.to.some((a) => a.toLowerCase() === wanted));
  }

  /** Resolves with the first message matching `predicate`, waiting for it to arrive. */
  async waitFor(predicate: (mail: ReceivedMail) => boolean, timeoutMs = 15_000): Promise<ReceivedMail> {
    const found = this.messages.find(predicate);
    if (found) return found;
    return new Promise<ReceivedMail>((resolve, reject) => {
      const wake = () => {
        const match = this.messages.find(predicate);
        if (!match) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(match);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new Error(`no matching message reached the SMTP sink within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }
}

// ---- A small MIME reader: enough for what nodemailer writes (multipart, QP, base64, RFC 2047). ----

function splitHead(raw: string): { head: string; body: string } {
  const match = /\r?\n\r?\n/.exec(raw);
  if (!match) return { head: raw, body: '' };
  return { head: raw.slice(0, match.index), body: raw.slice(match.index + match[0].length) };
}

function parseHeaders(head: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (const line of head.replace(/\r?\n[ \t]/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = decodeWords(line.slice(colon + 1).trim());
    headers.set(name, [...(headers.get(name) ?? []), value]);
  }
  return headers;
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?Q?...?=`, `=?UTF-8?B?...?=`). */
function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?[^?]+\?[BbQq]\?[^?]*\?=)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, charset: string, enc: string, data: string) => {
      const bytes =
        enc.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64')
          : qpBytes(data.replace(/_/g, ' '));
      return bytes.toString(/utf-?8/i.test(charset) ? 'utf8' : 'latin1');
    });
}

function qpBytes(input: string): Buffer {
  const text = input.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const hex = text.slice(i + 1, i + 3);
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(text.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

function param(value: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}="?([^";]+)"?`, 'i').exec(value);
  return match?.[1];
}

interface Part {
  headers: Map<string, string[]>;
  body: string;
}

function leafParts(raw: string): Part[] {
  const { head, body } = splitHead(raw);
  const headers = parseHeaders(head);
  const type = headers.get('content-type')?.[0] ?? 'text/plain';
  const boundary = /^multipart\//i.test(type) ? param(type, 'boundary') : undefined;
  if (!boundary) return [{ headers, body }];
  const parts: Part[] = [];
  const sections = body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?[ \\t]*\\r?\\n?`));
  for (const section of sections.slice(1, -1)) parts.push(...leafParts(section));
  return parts;
}

function decodeBody(part: Part): string {
  const encoding = (part.headers.get('content-transfer-encoding')?.[0] ?? '7bit').toLowerCase();
  const type = part.headers.get('content-type')?.[0] ?? 'text/plain';
  const charset = param(type, 'charset') ?? 'utf-8';
  const bytes =
    encoding === 'base64'
      ? Buffer.from(part.body.replace(/\s+/g, ''), 'base64')
      : encoding === 'quoted-printable'
        ? qpBytes(part.body)
        : Buffer.from(part.body, 'latin1');
  return bytes.toString(/utf-?8/i.test(charset) ? 'utf8' : 'latin1');
}

/** Parses a raw message into headers and its text and html parts. */
export function parseMail(raw: string, envelope: { from: string; to: string[] }): ReceivedMail {
  const headers = parseHeaders(splitHead(raw).head);
  const mail: ReceivedMail = {
    envelope,
    headers,
    subject: headers.get('subject')?.[0] ?? '',
    messageId: headers.get('message-id')?.[0] ?? '',
    raw,
  };
  for (const part of leafParts(raw)) {
    const type = (part.headers.get('content-type')?.[0] ?? 'text/plain').toLowerCase();
    if (/attachment/i.test(part.headers.get('content-disposition')?.[0] ?? '')) continue;
    if (type.startsWith('text/plain') && mail.text === undefined) mail.text = decodeBody(part);
    else if (type.startsWith('text/html') && mail.html === undefined) mail.html = decodeBody(part);
  }
  return mail;
}
