import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RetentionSweep } from '../../apps/worker/src/retention/retention.js';
import { createWorker } from '../../apps/worker/src/worker.factory.js';
import { PrismaService } from '#libs/database';
import { QueueName } from '#libs/queue';
import { defineCollection, uniqueName } from '../collections/support.js';
import { startApi } from '../support/app.js';
import { testConfig } from '../support/config.js';
import { createMigratedDatabase } from '../support/databases.js';
import { bearer, createUser, TEST_PASSWORD } from '../support/users.js';

const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { amr?: string[] };

/** Guests: a real user id at once, upgraded in place keeping their data, cleaned up when abandoned. */
describe('anonymous (guest) users', () => {
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  let prisma: PrismaService;
  let db: Awaited<ReturnType<typeof createMigratedDatabase>>;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    // Own database: the cleanup deletes guests, and other files' guests are not this file's business.
    db = await createMigratedDatabase(inject('adminDatabaseUrl'), 'baas_guests');
    const config = testConfig({ DATABASE_URL: db.url, QUEUE_PREFIX: `${inject('queuePrefix')}_guests`, AUTH_GUEST_RETENTION_HOURS: '24' });
    app = await startApi(config);
    worker = await createWorker(config);
    prisma = app.get(PrismaService);
  });
  afterAll(async () => {
    await worker.close();
    await app.close();
    await db.drop();
  });

  it('a guest session has a real user id, works on user routes, and says how it signed in', async () => {
    const guest = await http().post('/v1/auth/anonymous').expect(201);
    expect(guest.body.user).toMatchObject({ isAnonymous: true, emailVerified: false, roles: [] });
    expect(guest.body.user.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims(guest.body.accessToken as string).amr).toEqual(['anonymous']);
    const me = await http().get('/v1/auth/me').set(bearer(guest.body)).expect(200);
    expect(me.body).toMatchObject({ id: guest.body.user.id, isAnonymous: true });
    // Refresh works like any session.
    await http().post('/v1/auth/refresh').send({ refreshToken: guest.body.refreshToken }).expect(200);
  });

  it('upgrading to email + password keeps the id, the session and the guest\'s documents', async () => {
    const name = await defineCollection(app, {
      name: uniqueName('cart'),
      fields: [{ name: 'item', type: 'string' }],
      rules: { list: 'owner', read: 'owner', create: 'authenticated', update: 'owner', delete: 'owner' },
    });
    const guest = (await http().post('/v1/auth/anonymous').expect(201)).body as { user: { id: string }; accessToken: string; refreshToken: string };
    const doc = await http().post(`/v1/collections/${name}/documents`).set(bearer(guest)).send({ item: 'book' }).expect(201);
    const email = `upgraded-${randomUUID()}@example.test`;
    const upgraded = await http().post('/v1/auth/anonymous/upgrade').set(bearer(guest)).send({ email, password: TEST_PASSWORD }).expect(200);
    expect(upgraded.body).toMatchObject({ id: guest.user.id, email, isAnonymous: false, emailVerified: false });
    // The guest's session goes on; signing in with the new password opens the same account.
    await http().get(`/v1/collections/${name}/documents/${doc.body.id}`).set(bearer(guest)).expect(200);
    const login = await http().post('/v1/auth/login').send({ email, password: TEST_PASSWORD }).expect(200);
    expect(login.body.user.id).toBe(guest.user.id);
    const list = await http().get(`/v1/collections/${name}/documents`).set(bearer(login.body)).expect(200);
    expect(list.body.items.map((d: { item: string }) => d.item)).toEqual(['book']);
    // A verification email went to the new address.
    await expect.poll(() => prisma.emailMessage.count({ where: { to: { has: email }, template: 'verification' } })).toBe(1);
    // Once upgraded, it cannot be upgraded again.
    expect((await http().post('/v1/auth/anonymous/upgrade').set(bearer(login.body)).send({ email: `x-${email}`, password: TEST_PASSWORD }).expect(409)).body.code).toBe('NOT_ANONYMOUS');
  });

  it('refuses what a guest cannot do yet, and upgrades to a taken email', async () => {
    const guest = (await http().post('/v1/auth/anonymous').expect(201)).body as { accessToken: string };
    expect((await http().patch('/v1/auth/me').set(bearer(guest)).send({ currentPassword: 'x', password: 'a new password 1' }).expect(409)).body.code).toBe('ANONYMOUS_USER');
    expect((await http().post('/v1/auth/email-change').set(bearer(guest)).send({ email: `a-${randomUUID()}@example.test` }).expect(409)).body.code).toBe('ANONYMOUS_USER');
    const taken = await createUser(app);
    expect((await http().post('/v1/auth/anonymous/upgrade').set(bearer(guest)).send({ email: taken.email, password: TEST_PASSWORD }).expect(409)).body.code).toBe('EMAIL_TAKEN');
    expect((await http().post('/v1/auth/anonymous/upgrade').set(bearer(guest)).send({ email: 'not-an-email', password: TEST_PASSWORD }).expect(400)).body.code).toBe('VALIDATION_FAILED');
    // Profile fields are fine for a guest.
    await http().patch('/v1/auth/me').set(bearer(guest)).send({ displayName: 'Guest' }).expect(200);
  });

  it('guest sessions are rate-limited per IP', async () => {
    const limited = await startApi(testConfig({ DATABASE_URL: db.url, AUTH_RATE_LIMIT_MAX: '1', QUEUE_PREFIX: `${inject('queuePrefix')}_guests_rl` }));
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await request(limited.getHttpServer()).post('/v1/auth/anonymous')).status);
      // AUTH_RATE_LIMIT_MAX × 5 per IP.
      expect(statuses).toEqual([201, 201, 201, 201, 201, 429, 429]);
    } finally {
      await limited.close();
    }
  });

  it('the worker deletes abandoned guests only (a BullMQ job scheduler like the retention sweep)', async () => {
    const queue = worker.get<Queue>(getQueueToken(QueueName.System));
    expect(await queue.getJobScheduler('guest-cleanup')).toBeTruthy();

    const make = async () => (await http().post('/v1/auth/anonymous').expect(201)).body as { user: { id: string }; accessToken: string };
    const abandoned = await make();
    const stillActive = await make();
    const fresh = await make();
    const upgradedLongAgo = await make();
    await http().post('/v1/auth/anonymous/upgrade').set(bearer(upgradedLongAgo)).send({ email: `kept-${randomUUID()}@example.test`, password: TEST_PASSWORD }).expect(200);
    const longAgo = new Date(Date.now() - 48 * 3600_000);
    for (const u of [abandoned, stillActive, upgradedLongAgo]) {
      await prisma.user.update({ where: { id: u.user.id }, data: { createdAt: longAgo } });
      await prisma.session.updateMany({ where: { userId: u.user.id }, data: { createdAt: longAgo, lastUsedAt: longAgo } });
    }
    // stillActive refreshed a moment ago.
    await prisma.session.updateMany({ where: { userId: stillActive.user.id }, data: { lastUsedAt: new Date() } });

    const result = await worker.get(RetentionSweep).sweepGuests();
    expect(result.guests).toBe(1);
    const left = await prisma.user.findMany({ where: { id: { in: [abandoned, stillActive, fresh, upgradedLongAgo].map((u) => u.user.id) } }, select: { id: true } });
    expect(left.map((u) => u.id).sort()).toEqual([stillActive, fresh, upgradedLongAgo].map((u) => u.user.id).sort());
    // The abandoned guest's token stops at once.
    expect((await http().get('/v1/auth/me').set(bearer(abandoned)).expect(401)).body.code).toBe('SESSION_REVOKED');
  });
});
