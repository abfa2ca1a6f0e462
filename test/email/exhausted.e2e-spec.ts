import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_KEY } from '../support/config.js';
import { type EmailStack, startEmailStack, waitUntil } from './email-stack.js';

/** Few attempts and a running sweeper timer: what happens when an outage outlasts the retries. */
describe('email retries and the sweeper timer', () => {
  let stack: EmailStack;
  const message = (id: string) => stack.prisma.emailMessage.findUniqueOrThrow({ where: { id } });
  const address = (label: string) => `${label}-${randomBytes(4).toString('hex')}@example.com`;

  beforeAll(async () => {
    stack = await startEmailStack({
      worker: true,
      env: { EMAIL_MAX_ATTEMPTS: '2', EMAIL_RETRY_BASE_MS: '100', EMAIL_SWEEP_INTERVAL_MS: '300' },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('an outage longer than EMAIL_MAX_ATTEMPTS ends as failed after exactly that many attempts', async () => {
    await stack.sink.stop();
    try {
      const res = await request(stack.api.getHttpServer())
        .post('/v1/email/send')
        .set('x-api-key', SERVICE_KEY)
        .send({ to: address('gives-up'), subject: 'Too long an outage', text: 'x' })
        .expect(202);
      const row = await waitUntil(() => message(res.body.id), (m) => m.status !== 'queued');
      expect(row).toMatchObject({ status: 'failed', attempts: 2, response: null });
      expect(row.error).toMatch(/ECONNREFUSED|connect|Connection/i);
      const job = await stack.queue.getJob(res.body.id);
      expect(await job?.getState()).toBe('failed');
      expect(job?.attemptsMade).toBe(2);
    } finally {
      await stack.sink.start();
    }
  });

  it('the sweeper timer delivers a queued email that never got a job', async () => {
    const to = address('swept');
    const orphan = await stack.prisma.emailMessage.create({
      data: { to: [to], subject: 'Swept up', text: 'x', createdAt: new Date(Date.now() - 10_000) },
    });
    const mail = await stack.sink.waitFor((m) => m.envelope.to.includes(to));
    expect(mail.subject).toBe('Swept up');
    const row = await waitUntil(() => message(orphan.id), (m) => m.status === 'sent');
    expect(row.attempts).toBe(1);
  });
});
