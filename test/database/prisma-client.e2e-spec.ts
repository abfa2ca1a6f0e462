import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Prisma, PrismaClient } from '../../libs/database/src/generated/client.js';

/**
 * Proves the database built by our hand-written migrations is the one the generated client
 * expects: for every model, a row with every field set is written, read back field by field,
 * compared, and deleted. The models come from the client itself (Prisma.ModelName), and
 * `samples` must have one entry per model, so a model added to the schema without a sample
 * here fails the typecheck.
 */

/** One row of model M with all its scalar fields, as the client returns it. */
type Row<M extends Prisma.ModelName> = Prisma.TypeMap['model'][M]['payload']['scalars'];

/** Rows the samples may reference through foreign keys, created first. */
interface Parents {
  userId: string;
  sessionId: string;
  functionId: string;
  functionVersionId: string;
  bucketName: string;
}

const at = (iso: string) => new Date(iso); // Timestamptz(3): millisecond precision survives.

const samples: { [M in Prisma.ModelName]: (parents: Parents) => Row<M> } = {
  CloudFunction: () => ({
    id: randomUUID(),
    name: `sample-${randomUUID()}`,
    currentVersion: 3,
    secrets: 'v1.aXY.dGFn.Ym9keQ',
    secretNames: ['API_TOKEN', 'OTHER'],
    createdAt: at('2026-01-02T03:04:05.678Z'),
    updatedAt: at('2026-01-03T03:04:05.678Z'),
  }),
  FunctionVersion: ({ functionId }) => ({
    id: randomUUID(),
    functionId,
    version: 42,
    language: 'ts',
    source: 'export default () => 1',
    code: 'exports.default = () => 1',
    triggers: [{ type: 'db', collection: 'posts', events: ['create'] }, { type: 'http' }],
    timeoutMs: 1234,
    memoryMb: 64,
    retries: 3,
    backoffMs: 250,
    concurrency: 5,
    createdBy: 'service:bootstrap',
    sourceMap: '{"version":3,"sources":["function.ts"],"mappings":"AAAA"}',
    rollbackOf: 7,
    createdAt: at('2026-01-02T03:04:05.678Z'),
  }),
  FunctionTrigger: ({ functionId }) => ({
    id: randomUUID(),
    functionId,
    type: 'schedule',
    target: 'posts',
    events: ['create', 'update'],
    cron: '0 3 * * *',
    timezone: 'Europe/Paris',
    access: 'authenticated',
  }),
  FunctionRun: ({ functionId, functionVersionId }) => ({
    id: randomUUID(),
    functionId,
    versionId: functionVersionId,
    version: 1,
    trigger: 'db',
    eventId: randomUUID(),
    event: { type: 'db', after: { title: 'ünïcødé ✓' } },
    status: 'dead',
    attempts: 3,
    maxAttempts: 3,
    durationMs: 17,
    logs: [{ level: 'log', message: 'hi', at: '2026-01-02T03:04:05.678Z' }],
    logsTruncated: true,
    result: { ok: true },
    error: { code: 'FUNCTION_ERROR', message: 'boom' },
    replayOf: randomUUID(),
    invokedBy: randomUUID(),
    invokedSession: randomUUID(),
    cold: true,
    cpuMs: 1.25,
    memoryBytes: 123456789012n,
    createdAt: at('2026-01-02T03:04:05.678Z'),
    startedAt: at('2026-01-02T03:04:06.678Z'),
    finishedAt: at('2026-01-02T03:04:07.678Z'),
  }),
  FunctionEventReceipt: ({ functionId }) => ({
    id: randomUUID(),
    functionId,
    eventId: randomUUID(),
    runId: randomUUID(),
    createdAt: at('2026-01-02T03:04:05.678Z'),
  }),
  FunctionUsageDaily: ({ functionId }) => ({
    id: randomUUID(),
    functionId,
    day: at('2026-01-02T00:00:00.000Z'),
    attempts: 12,
    coldStarts: 3,
    wallMs: 9876543210n,
    cpuMs: 432.5,
    memoryBytesMax: 134217728n,
    memoryMbMs: 1264.5,
    shard: 5,
  }),
  Collection: () => ({
    id: randomUUID(),
    name: `sample_${randomUUID().slice(0, 8)}`,
    fields: [{ name: 'title', type: 'string', required: true }],
    indexes: [['title']],
    rules: { list: 'public', read: 'public', create: 'authenticated', update: 'owner', delete: 'admin' },
    createdAt: at('2026-01-02T03:04:05.678Z'),
    updatedAt: at('2026-01-03T03:04:05.678Z'),
  }),
  EmailMessage: () => ({
    id: randomUUID(),
    to: ['a@example.test', 'b@example.test'],
    subject: 'Hello ✓',
    text: 'plain',
    html: '<p>html</p>',
    template: 'verification',
    status: 'sent',
    attempts: 2,
    messageId: '<abc@example.test>',
    response: '250 OK',
    error: 'earlier: 421 try later',
    rejected: ['c@example.test'],
    createdBy: 'system',
    createdAt: at('2026-01-02T03:04:05.678Z'),
    updatedAt: at('2026-01-02T03:05:05.678Z'),
    lastAttemptAt: at('2026-01-02T03:04:35.678Z'),
    sentAt: at('2026-01-02T03:04:36.678Z'),
  }),
  EmailTemplate: () => ({
    id: randomUUID(),
    name: `sample-${randomUUID().slice(0, 8)}`,
    subject: 'Hi {{name}}',
    html: '<p>{{name}}</p>',
    text: '{{name}}',
    updatedBy: 'user:1',
    createdAt: at('2026-01-02T03:04:05.678Z'),
    updatedAt: at('2026-01-03T03:04:05.678Z'),
  }),
  StorageBucket: () => ({
    id: randomUUID(),
    name: `sample-${randomUUID().slice(0, 8)}`,
    public: true,
    maxFileSize: 5n * 1024n ** 3n,
    allowedMimeTypes: ['image/*'],
    rules: { create: { segment0: '@auth.id' } },
    createdAt: at('2026-01-02T03:04:05.678Z'),
    updatedAt: at('2026-01-03T03:04:05.678Z'),
  }),
  StorageFile: ({ bucketName, userId }) => {
    const id = randomUUID();
    return {
      id,
      bucket: bucketName,
      key: 'ünï/a b.png',
      keyScope: userId,
      objectKey: `${bucketName}/${id}`,
      size: 2n ** 40n,
      contentType: 'image/png',
      checksum: 'ab'.repeat(32),
      ownerId: userId,
      aclRead: ['*'],
      aclWrite: [`user:${userId}`],
      status: 'ready',
      uploadExpiresAt: at('2026-01-02T04:04:05.678Z'),
      createdAt: at('2026-01-02T03:04:05.678Z'),
      updatedAt: at('2026-01-02T03:05:05.678Z'),
    };
  },
  OutboxEvent: () => ({
    id: randomUUID(),
    type: 'db.change',
    payload: { nested: { list: [1, 2.5, -3, 'ünïcødé ✓', true, false, null], empty: {} }, big: 2 ** 53 - 1 },
    createdAt: at('2026-01-02T03:04:05.678Z'),
    publishedAt: at('2026-01-02T03:04:06.789Z'),
    attempts: 7,
  }),
  User: () => ({
    id: randomUUID(),
    email: `sample-${randomUUID()}@example.test`,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    emailVerified: true,
    roles: ['admin', 'editor'],
    disabled: true,
    isAnonymous: true,
    displayName: 'Ada ✓',
    userMetadata: { theme: 'dark', tags: ['a', 1] },
    appMetadata: { plan: 'pro' },
    createdAt: at('2026-01-02T03:04:05.678Z'),
    updatedAt: at('2026-01-03T03:04:05.678Z'),
  }),
  Session: ({ userId }) => ({
    id: randomUUID(),
    userId,
    userAgent: 'vitest',
    ip: '203.0.113.7',
    createdAt: at('2026-01-02T03:04:05.678Z'),
    lastUsedAt: at('2026-01-02T04:04:05.678Z'),
    expiresAt: at('2026-02-02T03:04:05.678Z'),
    revokedAt: at('2026-01-05T03:04:05.678Z'),
    revokedReason: 'logout',
    aal: 'aal2',
    amr: ['pwd', 'otp', 'mfa'],
  }),
  RefreshToken: ({ sessionId }) => ({
    id: randomUUID(),
    sessionId,
    tokenHash: randomUUID(),
    createdAt: at('2026-01-02T03:04:05.678Z'),
    usedAt: at('2026-01-02T03:05:05.678Z'),
  }),
  AuthToken: ({ userId }) => ({
    id: randomUUID(),
    userId,
    purpose: 'email_change',
    tokenHash: randomUUID(),
    newEmail: 'new@example.test',
    redirectTo: 'https://app.example.test/cb',
    createdAt: at('2026-01-02T03:04:05.678Z'),
    expiresAt: at('2026-01-02T04:04:05.678Z'),
    usedAt: at('2026-01-02T03:30:05.678Z'),
  }),
  AuthProvider: () => ({
    id: `p-${randomUUID().slice(0, 8)}`,
    kind: 'oidc',
    issuer: 'https://idp.example.test',
    clientId: 'client-1',
    clientSecret: 'v1.aaa.bbb.ccc',
    scopes: ['openid', 'email'],
    audiences: ['ios-client'],
    options: { tenant: 't1' },
    enabled: false,
    createdAt: at('2026-01-02T03:04:05.678Z'),
    updatedAt: at('2026-01-02T03:05:05.678Z'),
  }),
  UserIdentity: ({ userId }) => ({
    id: randomUUID(),
    userId,
    provider: 'google',
    subject: `sub-${randomUUID()}`,
    email: 'someone@example.test',
    emailVerified: true,
    createdAt: at('2026-01-02T03:04:05.678Z'),
    lastSignInAt: at('2026-01-02T04:04:05.678Z'),
  }),
  MfaFactor: ({ userId }) => ({
    id: randomUUID(),
    userId,
    secret: 'v1.iv.tag.body',
    confirmedAt: at('2026-01-02T03:04:05.678Z'),
    lastTimeStep: 59_000_000n,
    createdAt: at('2026-01-02T03:00:05.678Z'),
  }),
  MfaRecoveryCode: ({ userId }) => ({
    id: randomUUID(),
    userId,
    codeHash: randomUUID(),
    usedAt: at('2026-01-02T03:04:05.678Z'),
  }),
  ApiKey: () => ({
    id: randomUUID(),
    name: 'ci',
    prefix: 'sk_abcd',
    keyHash: randomUUID(),
    createdBy: 'user:1',
    createdByUserId: randomUUID(),
    createdByKeyId: randomUUID(),
    createdAt: at('2026-01-02T03:04:05.678Z'),
    lastUsedAt: at('2026-01-02T03:04:06.678Z'),
    revokedAt: at('2026-01-02T03:04:07.678Z'),
    scopes: ['collections', 'read-only'],
    expiresAt: at('2026-02-02T03:04:07.678Z'),
  }),
  AuditLog: ({ userId }) => ({
    id: randomUUID(),
    event: 'login.failed',
    userId,
    actor: 'anonymous',
    ip: '198.51.100.1',
    data: { reason: 'bad password' },
    createdAt: at('2026-01-02T03:04:05.678Z'),
  }),
};

/**
 * The part of every model delegate this test uses. Each delegate has its own precise types;
 * the test drives them all through this one shape, with rows typed by Row<M> above.
 */
interface RowDelegate {
  create(args: { data: unknown }): Promise<unknown>;
  findUnique(args: { where: { id: string }; select: Record<string, true> }): Promise<unknown>;
  delete(args: { where: { id: string } }): Promise<unknown>;
}

let prisma: PrismaClient;
let parents: Parents;

function delegateOf(model: Prisma.ModelName): RowDelegate {
  const key = model.charAt(0).toLowerCase() + model.slice(1);
  // Every model delegate has create/findUnique/delete by id with compatible argument shapes.
  return (prisma as unknown as Record<string, RowDelegate>)[key]!;
}

beforeAll(async () => {
  prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: inject('databaseUrl') }) });
  const user = await prisma.user.create({ data: { email: `parent-${randomUUID()}@example.test` } });
  const session = await prisma.session.create({ data: { userId: user.id, expiresAt: new Date(Date.now() + 3600_000) } });
  const fn = await prisma.cloudFunction.create({ data: { name: `parent-${randomUUID()}`, currentVersion: 1 } });
  const fnVersion = await prisma.functionVersion.create({
    data: { functionId: fn.id, version: 1, language: 'js', source: 's', code: 'c', triggers: [], timeoutMs: 1000, memoryMb: 128, retries: 0, backoffMs: 1000, concurrency: 1 },
  });
  const bucket = await prisma.storageBucket.create({ data: { name: `parent-${randomUUID().slice(0, 8)}` } });
  parents = { userId: user.id, sessionId: session.id, functionId: fn.id, functionVersionId: fnVersion.id, bucketName: bucket.name };
});

afterAll(async () => {
  await prisma?.user.delete({ where: { id: parents.userId } });
  await prisma?.cloudFunction.delete({ where: { id: parents.functionId } });
  await prisma?.storageBucket.delete({ where: { name: parents.bucketName } });
  await prisma?.$disconnect();
});

describe('the migrated database matches the generated Prisma client', () => {
  const models = Object.values(Prisma.ModelName);

  it('has a sample for every model of the client, and no other', () => {
    expect(Object.keys(samples).sort()).toEqual([...models].sort());
  });

  it.each(models)('%s: a row with every field set is written, read back identical, and deleted', async (model) => {
    const sample = samples[model](parents) as Record<string, unknown>;
    for (const [field, value] of Object.entries(sample)) expect(value, `${model}.${field}`).not.toBeNull();
    const delegate = delegateOf(model);
    const id = sample.id as string;
    const select = Object.fromEntries(Object.keys(sample).map((k) => [k, true as const]));

    expect(await delegate.create({ data: sample })).toEqual(sample);
    // toEqual compares Dates by instant, arrays and JSON deeply, and fails on type mismatches.
    expect(await delegate.findUnique({ where: { id }, select })).toEqual(sample);
    await delegate.delete({ where: { id } });
    expect(await delegate.findUnique({ where: { id }, select })).toBeNull();
  });

  it('applies the database defaults the schema declares', async () => {
    const row = await prisma.outboxEvent.create({ data: { type: 'db.change', payload: [] } });
    expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(row).toMatchObject({ attempts: 0, publishedAt: null });
    const user = await prisma.user.create({ data: { email: `defaults-${randomUUID()}@example.test` } });
    expect(user).toMatchObject({ roles: [], emailVerified: false, disabled: false, passwordHash: null });
    await prisma.user.delete({ where: { id: user.id } });
    await prisma.outboxEvent.delete({ where: { id: row.id } });
  });
});
