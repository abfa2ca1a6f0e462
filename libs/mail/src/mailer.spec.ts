import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailer, describeDeliveryError, messageIdFor } from '#libs/mail';

const base = { SMTP_PORT: 587, SMTP_SECURE: false, MAIL_FROM: 'Acme <no-reply@acme.test>' } as const;

describe('createMailer without SMTP_HOST', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes each message as an .eml file under MAIL_DIR and logs where', async () => {
    dir = await mkdtemp(join(tmpdir(), 'baas-mail-'));
    const logged: Record<string, unknown>[] = [];
    const mailer = createMailer({ ...base, MAIL_DIR: join(dir, 'nested') }, (_m, fields) => logged.push(fields));
    expect(mailer.kind).toBe('file');
    const id = '7d1f0c5e-0000-4000-8000-000000000001';
    const result = await mailer.send({ id, to: ['ann@example.com'], subject: 'Grüße', text: 'hello', html: '<p>hello</p>' });
    const files = await readdir(join(dir, 'nested'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`-${id}\\.eml$`));
    const eml = await readFile(join(dir, 'nested', files[0]!), 'utf8');
    expect(eml).toContain('To: ann@example.com');
    expect(eml).toContain(`Message-ID: <${id}@acme.test>`);
    expect(eml).toContain('From: Acme <no-reply@acme.test>');
    expect(eml).toMatch(/Subject: =\?UTF-8\?/);
    expect(result.messageId).toBe(`<${id}@acme.test>`);
    expect(result.response).toContain(files[0]);
    expect(logged[0]).toMatchObject({ to: ['ann@example.com'], subject: 'Grüße' });
    mailer.close();
  });
});

describe('messageIdFor', () => {
  it('uses the domain of MAIL_FROM', () => {
    expect(messageIdFor('abc', 'X <n@mail.acme.test>')).toBe('<abc@mail.acme.test>');
    expect(messageIdFor('abc', 'weird')).toBe('<abc@localhost>');
  });
});

describe('describeDeliveryError', () => {
  const smtpError = (code: string, responseCode?: number, response?: string) =>
    Object.assign(new Error(`failed: ${response ?? code}`), { code, responseCode, response });

  it('treats 5xx replies to the message as permanent', () => {
    const f = describeDeliveryError(smtpError('EENVELOPE', 550, '550 5.1.1 No such user'));
    expect(f).toEqual({ permanent: true, response: '550 5.1.1 No such user', message: 'failed: 550 5.1.1 No such user' });
    expect(describeDeliveryError(smtpError('EMESSAGE', 554, '554 rejected')).permanent).toBe(true);
  });

  it('treats 4xx replies, 503, connection problems and failed logins as temporary', () => {
    expect(describeDeliveryError(smtpError('EENVELOPE', 450, '450 mailbox busy')).permanent).toBe(false);
    expect(describeDeliveryError(smtpError('EMESSAGE', 421, '421 closing')).permanent).toBe(false);
    expect(describeDeliveryError(smtpError('EPROTOCOL', 503, '503 bad sequence')).permanent).toBe(false);
    expect(describeDeliveryError(smtpError('ESOCKET')).permanent).toBe(false);
    expect(describeDeliveryError(smtpError('ECONNECTION')).permanent).toBe(false);
    expect(describeDeliveryError(smtpError('ETIMEDOUT')).permanent).toBe(false);
    expect(describeDeliveryError(smtpError('EAUTH', 535, '535 bad credentials')).permanent).toBe(false);
    expect(describeDeliveryError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).permanent).toBe(false);
    expect(describeDeliveryError(new Error('something unexpected')).permanent).toBe(false);
  });

  it('treats a malformed message without a reply as permanent', () => {
    expect(describeDeliveryError(smtpError('EENVELOPE')).permanent).toBe(true);
  });

  it('keeps one line of the message', () => {
    expect(describeDeliveryError(new Error('first\nsecond')).message).toBe('first');
  });
});
