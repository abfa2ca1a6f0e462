import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransferUser } from '../../packages/sdk/src/index.js';
import { startApi } from '../support/app.js';
import { PASSWORD, sdkClients, uniqueEmail } from './support.js';

describe('SDK admin.transfer against the real api', () => {
  let app: NestFastifyApplication;
  let sdk: ReturnType<typeof sdkClients>;

  beforeAll(async () => {
    app = await startApi();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    sdk = sdkClients(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
  });
  afterAll(async () => {
    sdk?.expectContractKept();
    await app?.close();
  });

  it('allUsers pages through every user in id order, with hashes and never a password', async () => {
    const emails = await Promise.all([1, 2, 3, 4, 5].map(async (i) => (await sdk.app().auth.signUp({ email: uniqueEmail(`tr${i}`), password: PASSWORD })).user.email));
    const seen: TransferUser[] = [];
    for await (const user of sdk.service.admin.transfer.allUsers(2)) seen.push(user);
    const ids = seen.map((u) => u.id);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
    const mine = seen.filter((u) => emails.includes(u.email));
    expect(mine).toHaveLength(5);
    for (const user of mine) expect(user).toMatchObject({ passwordHash: expect.stringMatching(/^\$argon2id\$v=19\$/), roles: [], disabled: false });
    expect(JSON.stringify(seen)).not.toContain(PASSWORD);
    await expect(sdk.service.admin.transfer.users({ limit: 0 })).rejects.toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
  });

  it('importUsers keeps ids and hashes: the imported account signs in with the original password', async () => {
    const original = await sdk.app().auth.signUp({ email: uniqueEmail('orig'), password: PASSWORD });
    let hash: string | null = null;
    for await (const user of sdk.service.admin.transfer.allUsers()) if (user.id === original.user.id) hash = user.passwordHash;
    const copy: TransferUser = {
      id: crypto.randomUUID(),
      email: uniqueEmail('copy'),
      passwordHash: hash,
      emailVerified: true,
      roles: ['editor'],
      disabled: false,
      createdAt: '2020-01-02T03:04:05.678Z',
      updatedAt: '2021-01-02T03:04:05.678Z',
    };
    expect(await sdk.service.admin.transfer.importUsers([copy])).toEqual({ created: 1, skipped: [], emailTaken: [] });
    const session = await sdk.app().auth.signInWithPassword({ email: copy.email, password: PASSWORD });
    expect(session.user).toMatchObject({ id: copy.id, emailVerified: true, roles: ['editor'], createdAt: copy.createdAt });
    // Without a hash, the account exists but has no password (magic link or reset to sign in).
    const noPassword = { ...copy, id: crypto.randomUUID(), email: uniqueEmail('nopw'), passwordHash: null };
    expect((await sdk.service.admin.transfer.importUsers([noPassword])).created).toBe(1);
    await expect(sdk.app().auth.signInWithPassword({ email: noPassword.email, password: PASSWORD })).rejects.toMatchObject({ statusCode: 401 });
    // The same batch again: all skipped.
    expect(await sdk.service.admin.transfer.importUsers([copy, noPassword])).toEqual({ created: 0, skipped: [copy.id, noPassword.id], emailTaken: [] });
    await expect(sdk.service.admin.transfer.importUsers([])).rejects.toMatchObject({ statusCode: 400 });
    await expect(sdk.service.admin.transfer.importUsers([{ ...copy, id: crypto.randomUUID(), email: 'not an email' }])).rejects.toMatchObject({ statusCode: 400 });
  });
});
