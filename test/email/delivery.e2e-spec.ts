import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmailSweeper } from '../../apps/worker/src/email/email-sweeper.js';
import { withTransaction } from '#libs/database';
import { SERVICE_KEY } from '../support/config.js';
import { type EmailStack, startEmailStack, unescapeHtml, waitUntil } from './email-stack.js';

/**
 * The whole path through real servers: api (POST /v1/email/send, EmailService.queue) ->
 * Postgres row -> BullMQ job -> worker -> nodemailer -> an SMTP server started here.
 */
describe('email delivery', () => {
  let stack: EmailStack;
  const server = () => stack.api.getHttpServer();
  const message = (id: string) => stack.prisma.emailMessage.findUniqueOrThrow({ where: { id } });
  const settled = (id: string) => waitUntil(() => message(id), (m) => m.status !== 'queued');
  const address = (label: string) => `${label}-${randomBytes(4).toString('hex')}@example.com`;

  beforeAll(async () => {
    stack = await startEmailStack({ worker: true });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('POST /v1/email/send answers 202 with the id; the message arrives and the log says sent', async () => {
    const to = address('plain');
    const res = await request(server())
      .post('/v1/email/send')
      .set('x-api-key', SERVICE_KEY)
      .send({ to, subject: 'Grüße from the test ✓', text: 'Plain body', html: '<p>HTML <b>body</b></p>' })
      .expect(202);
    expect(res.body).toEqual({ id: expect.any(String), status: 'queued' });

    const mail = await stack.sink.waitFor((m) => m.envelope.to.includes(to));
    expect(mail.subject).toBe('Grüße from the test ✓');
    expect(mail.text?.trim()).toBe('Plain body');
    expect(mail.html).toBe('<p>HTML <b>body</b></p>');
    expect(mail.envelope.from).toBe('no-reply@acme.test');
    expect(mail.headers.get('from')?.[0]).toBe('Acme Test <no-reply@acme.test>');

    const row = await settled(res.body.id);
    expect(row).toMatchObject({ status: 'sent', attempts: 1, error: null, to: [to] });
    expect(row.response).toMatch(/^250 /);
    expect(row.messageId).toBe(`<${res.body.id}@acme.test>`);
    expect(mail.messageId).toBe(row.messageId);
    expect(row.sentAt).toBeInstanceOf(Date);

    const logged = await request(server()).get(`/v1/email/messages/${res.body.id}`).set('x-api-key', SERVICE_KEY).expect(200);
    expect(logged.body).toMatchObject({ id: res.body.id, status: 'sent', attempts: 1, messageId: row.messageId, text: 'Plain body' });
  });

  it.each([
    ['verification', /Confirm your email address for Acme Test/],
    ['password-reset', /Reset your Acme Test password/],
    ['magic-link', /Your sign-in link for Acme Test/],
  ])('the built-in %s email arrives with a working link in both parts', async (template, subject) => {
    const to = address(template);
    const token = randomBytes(24).toString('base64url');
    // A link into the api under test, with characters that must survive HTML escaping.
    const link = `http://app.test/v1/health/live?token=${token}&kind=${template}`;
    const { id } = await stack.email.queue({ to, template, data: { link } });

    const mail = await stack.sink.waitFor((m) => m.envelope.to.includes(to));
    expect(mail.subject).toMatch(subject);
    expect(mail.text).toContain(link);
    expect(mail.text).toContain(to); // {{email}} defaults to the recipient
    const hrefs = [...(mail.html ?? '').matchAll(/href="([^"]*)"/g)].map((m) => unescapeHtml(m[1]!));
    expect(hrefs.length).toBeGreaterThan(0);
    expect(new Set(hrefs)).toEqual(new Set([link]));
    expect(mail.html).toContain(`token=${token}&amp;kind=${template}`);

    // The link, as read out of the delivered HTML, works against the running api.
    const url = new URL(hrefs[0]!);
    expect(url.searchParams.get('token')).toBe(token);
    await request(server()).get(`${url.pathname}${url.search}`).expect(200);
    expect((await settled(id)).status).toBe('sent');
  });

  it('an email queued in a transaction exists only if it commits, and is sent after dispatch', async () => {
    const rolledBack = address('rollback');
    await expect(
      withTransaction(stack.pool, async (tx) => {
        await stack.email.queue({ to: rolledBack, subject: 'never', text: 'never' }, tx);
        throw new Error('caller failed after queueing');
      }),
    ).rejects.toThrow('caller failed');
    expect(await stack.prisma.emailMessage.count({ where: { to: { has: rolledBack } } })).toBe(0);

    const committed = address('commit');
    const { id } = await withTransaction(stack.pool, (tx) =>
      stack.email.queue({ to: committed, template: 'magic-link', data: { link: 'http://app.test/x' } }, tx),
    );
    await stack.email.dispatch(id);
    await stack.sink.waitFor((m) => m.envelope.to.includes(committed));
    expect((await settled(id)).status).toBe('sent');
    expect(stack.sink.to(rolledBack)).toHaveLength(0);
  });

  it('a send while the SMTP server is down is retried and delivered once it is back', async () => {
    const to = address('outage');
    await stack.sink.stop();
    let restarted = false;
    try {
      const res = await request(server())
        .post('/v1/email/send')
        .set('x-api-key', SERVICE_KEY)
        .send({ to, subject: 'During the outage', text: 'still arrives' })
        .expect(202);
      // Two failed attempts, each recorded; the email stays queued.
      const during = await waitUntil(() => message(res.body.id), (m) => m.attempts >= 2);
      expect(during.status).toBe('queued');
      expect(during.error).toMatch(/ECONNREFUSED|connect|Connection/i);
      expect(stack.sink.to(to)).toHaveLength(0);

      await stack.sink.start(); // same port
      restarted = true;
      const mail = await stack.sink.waitFor((m) => m.envelope.to.includes(to));
      expect(mail.subject).toBe('During the outage');
      const row = await settled(res.body.id);
      expect(row.status).toBe('sent');
      expect(row.attempts).toBeGreaterThanOrEqual(3);
      expect(row.error).toBeNull();
      expect(stack.sink.to(to)).toHaveLength(1);
    } finally {
      if (!restarted) await stack.sink.start();
    }
  });

  it('a temporary 4xx reply is retried with the reply recorded, and delivered once accepted', async () => {
    const to = address('greylisted');
    stack.sink.rejectAll = { code: 451, message: '4.7.1 Greylisted, try again later' };
    let cleared = false;
    try {
      const res = await request(server())
        .post('/v1/email/send')
        .set('x-api-key', SERVICE_KEY)
        .send({ to, subject: 'Greylisted', text: 'x' })
        .expect(202);
      const during = await waitUntil(() => message(res.body.id), (m) => m.attempts >= 2);
      expect(during.status).toBe('queued');
      expect(during.response).toMatch(/^451 /);

      stack.sink.rejectAll = undefined;
      cleared = true;
      await stack.sink.waitFor((m) => m.envelope.to.includes(to));
      const row = await settled(res.body.id);
      expect(row).toMatchObject({ status: 'sent', error: null });
      expect(row.response).toMatch(/^250 /);
    } finally {
      if (!cleared) stack.sink.rejectAll = undefined;
    }
  });

  it('a permanent 5xx rejection is recorded as failed, without retries; an admin can retry it', async () => {
    const to = address('bounce');
    stack.sink.rejectRecipients.set(to, { code: 550, message: '5.1.1 No such mailbox' });
    const res = await request(server())
      .post('/v1/email/send')
      .set('x-api-key', SERVICE_KEY)
      .send({ to, subject: 'Bounces', text: 'x' })
      .expect(202);

    const row = await settled(res.body.id);
    expect(row.status).toBe('failed');
    expect(row.attempts).toBe(1);
    expect(row.response).toMatch(/^550 /);
    expect(row.error).toMatch(/550/);
    expect(row.sentAt).toBeNull();
    // BullMQ holds the job as finally failed after a single attempt: no retry is scheduled.
    const job = await stack.queue.getJob(res.body.id);
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
    expect(stack.sink.refused.filter((r) => r.address === to)).toHaveLength(1);

    const listed = await request(server())
      .get('/v1/email/messages')
      .query({ status: 'failed', to })
      .set('x-api-key', SERVICE_KEY)
      .expect(200);
    expect(listed.body.items.map((m: { id: string }) => m.id)).toEqual([res.body.id]);

    // Once the mailbox exists, an admin sends it again.
    stack.sink.rejectRecipients.delete(to);
    const retried = await request(server()).post(`/v1/email/messages/${res.body.id}/retry`).set('x-api-key', SERVICE_KEY).expect(202);
    expect(retried.body.status).toBe('queued');
    await stack.sink.waitFor((m) => m.envelope.to.includes(to));
    expect(await settled(res.body.id)).toMatchObject({ status: 'sent', attempts: 2 });
    const again = await request(server()).post(`/v1/email/messages/${res.body.id}/retry`).set('x-api-key', SERVICE_KEY).expect(409);
    expect(again.body.code).toBe('NOT_FAILED');
  });

  it('keeps the message for the others when the server refuses one of several recipients', async () => {
    const good = address('good');
    const bad = address('bad');
    stack.sink.rejectRecipients.set(bad, { code: 550, message: '5.1.1 No such mailbox' });
    const res = await request(server())
      .post('/v1/email/send')
      .set('x-api-key', SERVICE_KEY)
      .send({ to: [good, bad], subject: 'Two recipients', text: 'x' })
      .expect(202);
    const row = await settled(res.body.id);
    expect(row).toMatchObject({ status: 'sent', rejected: [bad] });
    expect(stack.sink.to(good)).toHaveLength(1);
    expect(stack.sink.to(bad)).toHaveLength(0);
  });

  it('template variables are HTML-escaped in the delivered html, raw in text, and cannot add a header', async () => {
    await request(server())
      .put('/v1/email/templates/greeting')
      .set('x-api-key', SERVICE_KEY)
      .send({ subject: 'Hello {{name}}', html: '<p class="{{name}}">Hello {{name}}</p>', text: 'Hello {{name}}' })
      .expect(200);
    const to = address('escape');
    const name = `<script>alert("x")</script>\r\nBcc: victim@example.com`;
    const res = await request(server())
      .post('/v1/email/send')
      .set('x-api-key', SERVICE_KEY)
      .send({ to, template: 'greeting', data: { name } })
      .expect(202);

    const mail = await stack.sink.waitFor((m) => m.envelope.to.includes(to));
    expect(mail.html?.replace(/\r\n/g, '\n')).toBe(
      '<p class="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;\nBcc: victim@example.com">Hello &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;\nBcc: victim@example.com</p>',
    );
    expect(mail.html).not.toContain('<script>');
    expect(mail.text?.replace(/\r\n/g, '\n')).toContain('Hello <script>alert("x")</script>\nBcc: victim@example.com');
    expect(mail.subject).toBe('Hello <script>alert("x")</script> Bcc: victim@example.com');
    expect(mail.headers.has('bcc')).toBe(false);
    expect(mail.envelope.to).toEqual([to]);
    expect(stack.sink.to('victim@example.com')).toHaveLength(0);
    expect((await settled(res.body.id)).template).toBe('greeting');
  });

  it('the sweeper enqueues a queued email whose job is missing (and leaves others alone)', async () => {
    const to = address('orphan');
    // As if the api had crashed between the commit and the enqueue.
    const orphan = await stack.prisma.emailMessage.create({
      data: { to: [to], subject: 'Found by the sweeper', text: 'x', createdAt: new Date(Date.now() - 60_000) },
    });
    expect(await stack.queue.getJobState(orphan.id)).toBe('unknown');
    const sweeper = stack.worker!.get(EmailSweeper);
    expect(await sweeper.sweep()).toBe(1);

    await stack.sink.waitFor((m) => m.envelope.to.includes(to));
    expect((await settled(orphan.id)).status).toBe('sent');
    expect(await sweeper.sweep()).toBe(0);
    expect(stack.sink.to(to)).toHaveLength(1);
  });

  it('a job for an email that does not exist or was already sent sends nothing', async () => {
    const sent = await stack.prisma.emailMessage.findFirstOrThrow({ where: { status: 'sent' } });
    const before = stack.sink.messages.length;
    for (const id of [randomUUID(), sent.id]) {
      await stack.queue.remove(id);
      const job = await stack.queue.add('send', { messageId: id }, { jobId: id });
      await waitUntil(() => job.getState(), (state) => state === 'completed');
      expect((await stack.queue.getJob(id))?.returnvalue).toEqual({ status: 'skipped' });
    }
    expect(stack.sink.messages.length).toBe(before);
  });
});
