import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_TEMPLATES, MAIL_LIMITS } from '#libs/mail';
import { SERVICE_KEY } from '../support/config.js';
import { bearer, createUser, type TestUser } from '../support/users.js';
import { type EmailStack, startEmailStack } from './email-stack.js';

/** The email routes over HTTP: access, validation, templates, preview and the log. No worker runs here. */
describe('email api', () => {
  let stack: EmailStack;
  let admin: TestUser;
  let plainUser: TestUser;
  const server = () => stack.api.getHttpServer();
  const asService = <T extends { set: (k: string, v: string) => T }>(req: T) => req.set('x-api-key', SERVICE_KEY);

  beforeAll(async () => {
    stack = await startEmailStack({ worker: false });
    admin = await createUser(stack.api, { roles: ['admin'] });
    plainUser = await createUser(stack.api);
  });
  afterAll(async () => {
    await stack?.close();
  });

  describe('access', () => {
    const routes: [method: 'get' | 'post' | 'put' | 'delete', path: string, body?: object][] = [
      ['post', '/v1/email/send', { to: 'a@example.com', subject: 's', text: 't' }],
      ['get', '/v1/email/messages'],
      ['get', `/v1/email/messages/${randomUUID()}`],
      ['post', `/v1/email/messages/${randomUUID()}/retry`],
      ['get', '/v1/email/templates'],
      ['get', '/v1/email/templates/verification'],
      ['put', '/v1/email/templates/verification', { subject: 's', html: 'h', text: 't' }],
      ['delete', '/v1/email/templates/verification'],
      ['post', '/v1/email/templates/verification/preview', {}],
    ];

    it.each(routes)('%s %s: 401 anonymous, 403 for a user without the admin role', async (method, path, body) => {
      const anonymous = await request(server())[method](path).send(body);
      expect(anonymous.status).toBe(401);
      const user = await request(server())[method](path).set(bearer(plainUser)).send(body);
      expect(user.status).toBe(403);
      expect(user.body.code).toBe('FORBIDDEN');
    });

    it('an admin user may send, and the log records who did', async () => {
      const res = await request(server())
        .post('/v1/email/send')
        .set(bearer(admin))
        .send({ to: 'from-admin@example.com', subject: 'Hi', text: 'x' })
        .expect(202);
      const row = await request(server()).get(`/v1/email/messages/${res.body.id}`).set(bearer(admin)).expect(200);
      expect(row.body).toMatchObject({ status: 'queued', createdBy: `user:${admin.id}`, to: ['from-admin@example.com'] });
      const viaKey = await asService(request(server()).post('/v1/email/send')).send({ to: 'k@example.com', subject: 'Hi', text: 'x' }).expect(202);
      const keyRow = await stack.prisma.emailMessage.findUniqueOrThrow({ where: { id: viaKey.body.id } });
      expect(keyRow.createdBy).toBe('service:bootstrap');
    });
  });

  describe('POST /v1/email/send validation', () => {
    const send = (body: object) => asService(request(server()).post('/v1/email/send')).send(body);
    const paths = (res: { body: { details?: { path: string }[] } }) => (res.body.details ?? []).map((d) => d.path).sort();

    it('rejects CR/LF in the subject (header injection) with 400 and stores nothing', async () => {
      const before = await stack.prisma.emailMessage.count();
      const res = await send({ to: 'a@example.com', subject: 'Hi\r\nBcc: evil@example.com', text: 'x' }).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(paths(res)).toEqual(['subject']);
      expect(await stack.prisma.emailMessage.count()).toBe(before);
    });

    it('rejects CR/LF or a second address smuggled into a recipient', async () => {
      expect(paths(await send({ to: 'a@example.com\r\nBcc: evil@example.com', subject: 'Hi', text: 'x' }).expect(400))).toEqual(['to']);
      expect(paths(await send({ to: 'a@example.com, evil@example.com', subject: 'Hi', text: 'x' }).expect(400))).toEqual(['to']);
    });

    it('validates every recipient and names the bad ones', async () => {
      const res = await send({ to: ['ok@example.com', 'nope', 'also@bad'], subject: 'Hi', text: 'x' }).expect(400);
      expect(paths(res)).toEqual(['to.1', 'to.2']);
    });

    it('limits the number of recipients and the size of the bodies', async () => {
      const many = Array.from({ length: MAIL_LIMITS.recipients + 1 }, (_, i) => `r${i}@example.com`);
      expect(paths(await send({ to: many, subject: 'Hi', text: 'x' }).expect(400))).toEqual(['to']);
      expect(paths(await send({ to: 'a@example.com', subject: 'Hi', html: 'x'.repeat(MAIL_LIMITS.bodyLength + 1) }).expect(400))).toEqual(['html']);
      await send({ to: many.slice(0, MAIL_LIMITS.recipients), subject: 'Hi', text: 'x' }).expect(202);
    });

    it('needs subject and a body, or a known template', async () => {
      expect(paths(await send({ to: 'a@example.com' }).expect(400))).toEqual(['subject', 'text']);
      const unknown = await send({ to: 'a@example.com', template: 'no-such-template', data: {} }).expect(400);
      expect(unknown.body.code).toBe('UNKNOWN_TEMPLATE');
      expect(paths(await send({ to: 'a@example.com', template: 'verification', subject: 'x' }).expect(400))).toEqual(['subject']);
      expect(paths(await send({ to: 'a@example.com', subject: 'x', text: 'y', cc: 'b@example.com' }).expect(400))).toEqual(['']);
    });

    it('never lets prototype keys in template data reach rendering', async () => {
      // Nest's validation pipe strips `constructor` keys from bodies before our schema runs
      // (the schema itself refuses them, see libs/mail limits.spec.ts); either way, no value.
      await asService(request(server()).put('/v1/email/templates/proto-probe'))
        .send({ subject: 'Proto', html: '', text: 'value=[{{constructor}}]' })
        .expect(200);
      const res = await send({ to: 'a@example.com', template: 'proto-probe', data: { constructor: 'x' } });
      if (res.status === 202) {
        const row = await stack.prisma.emailMessage.findUniqueOrThrow({ where: { id: res.body.id } });
        expect(row.text).toBe('value=[]');
      } else {
        expect(res.status).toBe(400);
        expect(paths(res)).toEqual(['data.constructor']);
      }
      const proto = await asService(request(server()).post('/v1/email/send'))
        .set('content-type', 'application/json')
        .send('{"to":"a@example.com","template":"verification","data":{"__proto__":{"link":"x"}}}');
      expect(proto.status).toBe(400);
    });
  });

  describe('templates', () => {
    it('lists the three built-in templates', async () => {
      const res = await asService(request(server()).get('/v1/email/templates')).expect(200);
      const names = res.body.items.map((t: { name: string }) => t.name);
      expect(names).toEqual(expect.arrayContaining(['verification', 'password-reset', 'magic-link']));
      expect(res.body.nextCursor).toBeNull();
    });

    it('GET returns the built-in default; PUT overrides it; DELETE restores it', async () => {
      const builtIn = await asService(request(server()).get('/v1/email/templates/password-reset')).expect(200);
      expect(builtIn.body).toMatchObject({ name: 'password-reset', builtIn: true, overridden: false, updatedAt: null });
      expect(builtIn.body.subject).toBe(BUILT_IN_TEMPLATES['password-reset'].subject);

      const custom = { subject: 'New password for {{email}}', html: '<a href="{{link}}">Reset</a>', text: 'Reset: {{link}}' };
      const put = await asService(request(server()).put('/v1/email/templates/password-reset')).send(custom).expect(200);
      expect(put.body).toMatchObject({ ...custom, builtIn: true, overridden: true });
      const got = await asService(request(server()).get('/v1/email/templates/password-reset')).expect(200);
      expect(got.body).toMatchObject({ ...custom, overridden: true });

      // The override is what a queued email is rendered from.
      const { id } = await stack.email.queue({ to: 'reset@example.com', template: 'password-reset', data: { link: 'http://app.test/r?t=1&u=2' } });
      const row = await stack.prisma.emailMessage.findUniqueOrThrow({ where: { id } });
      expect(row).toMatchObject({
        subject: 'New password for reset@example.com',
        html: '<a href="http://app.test/r?t=1&amp;u=2">Reset</a>',
        text: 'Reset: http://app.test/r?t=1&u=2',
        template: 'password-reset',
      });

      await asService(request(server()).delete('/v1/email/templates/password-reset')).expect(204);
      const restored = await asService(request(server()).get('/v1/email/templates/password-reset')).expect(200);
      expect(restored.body).toMatchObject({ overridden: false, subject: BUILT_IN_TEMPLATES['password-reset'].subject });
    });

    it('admins can create their own templates; unknown ones are 404', async () => {
      await asService(request(server()).get('/v1/email/templates/welcome')).expect(404);
      await asService(request(server()).put('/v1/email/templates/welcome'))
        .send({ subject: 'Welcome {{name}}', html: '', text: 'Hi {{name}}' })
        .expect(200);
      const got = await asService(request(server()).get('/v1/email/templates/welcome')).expect(200);
      expect(got.body).toMatchObject({ name: 'welcome', builtIn: false, overridden: true });
      await asService(request(server()).delete('/v1/email/templates/welcome')).expect(204);
      await asService(request(server()).delete('/v1/email/templates/welcome')).expect(404);
    });

    it('validates template bodies and names', async () => {
      const crlf = await asService(request(server()).put('/v1/email/templates/welcome'))
        .send({ subject: 'Hi\r\nBcc: x@example.com', html: 'x', text: 'x' })
        .expect(400);
      expect(crlf.body.details.map((d: { path: string }) => d.path)).toEqual(['subject']);
      await asService(request(server()).put('/v1/email/templates/welcome')).send({ subject: 'Hi', html: '', text: '' }).expect(400);
      await asService(request(server()).get('/v1/email/templates/Not%20A%20Name')).expect(400);
    });

    it('preview renders a built-in template with sample data, HTML-escaped', async () => {
      const res = await asService(request(server()).post('/v1/email/templates/verification/preview')).send({}).expect(200);
      expect(res.body.subject).toBe('Confirm your email address for Acme Test');
      expect(res.body.text).toContain('user@example.com');
      expect(res.body.html).toContain('href="http://app.test/');
      expect(res.body.missing).toEqual([]);

      const escaped = await asService(request(server()).post('/v1/email/templates/verification/preview'))
        .send({ data: { email: '<b>x</b>@example.com', link: 'http://app.test/?a=1&b="2"' } })
        .expect(200);
      expect(escaped.body.html).toContain('<strong>&lt;b&gt;x&lt;/b&gt;@example.com</strong>');
      expect(escaped.body.html).toContain('href="http://app.test/?a=1&amp;b=&quot;2&quot;"');
      expect(escaped.body.html).not.toContain('<b>x</b>');
      expect(escaped.body.text).toContain('<b>x</b>@example.com');
    });

    it('preview renders an unsaved draft, filling unknown variables with their names', async () => {
      const res = await asService(request(server()).post('/v1/email/templates/order-shipped/preview'))
        .send({ draft: { subject: 'Order {{orderId}} shipped', html: '<p>{{customer}}</p>', text: '{{customer}}' }, data: { customer: 'Ann & Bob' } })
        .expect(200);
      expect(res.body).toMatchObject({ subject: 'Order [orderId] shipped', html: '<p>Ann &amp; Bob</p>', text: 'Ann & Bob', missing: [] });
      await asService(request(server()).post('/v1/email/templates/order-shipped/preview')).send({}).expect(404);
    });
  });

  describe('GET /v1/email/messages', () => {
    it('pages newest first with a cursor and filters by status and recipient', async () => {
      const to = `pager-${randomUUID()}@example.com`;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await asService(request(server()).post('/v1/email/send')).send({ to, subject: `Page ${i}`, text: 'x' }).expect(202);
        ids.push(res.body.id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: Record<string, string> = { to, limit: '2', ...(cursor ? { cursor } : {}) };
        const page = await asService(request(server()).get('/v1/email/messages')).query(query).expect(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        for (const item of page.body.items) {
          expect(item.to).toEqual([to]);
          expect(item).not.toHaveProperty('html'); // bodies only in GET /messages/:id
        }
        seen.push(...page.body.items.map((m: { id: string }) => m.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());

      const upper = await asService(request(server()).get('/v1/email/messages')).query({ to: to.toUpperCase() }).expect(200);
      expect(upper.body.items).toHaveLength(5);
      const sent = await asService(request(server()).get('/v1/email/messages')).query({ to, status: 'sent' }).expect(200);
      expect(sent.body).toEqual({ items: [], nextCursor: null });
    });

    it('rejects bad filters and cursors, and answers 404 for an unknown id', async () => {
      await asService(request(server()).get('/v1/email/messages')).query({ status: 'bounced' }).expect(400);
      const bad = await asService(request(server()).get('/v1/email/messages')).query({ cursor: 'bm90LWEtY3Vyc29y' }).expect(400);
      expect(bad.body.code).toBe('INVALID_CURSOR');
      const garbled = await asService(request(server()).get('/v1/email/messages')).query({ cursor: 'not a cursor!' }).expect(400);
      expect(garbled.body.code).toBe('INVALID_CURSOR');
      const missing = await asService(request(server()).get(`/v1/email/messages/${randomUUID()}`)).expect(404);
      expect(missing.body.code).toBe('EMAIL_NOT_FOUND');
      await asService(request(server()).get('/v1/email/messages/not-a-uuid')).expect(400);
    });
  });
});
