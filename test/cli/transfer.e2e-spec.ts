import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BaasClient, FileInfo } from '../../packages/sdk/src/index.js';
import { type Stack, startStack } from '../functions/support.js';
import { PASSWORD, sdkClients, uniqueEmail } from '../sdk/support.js';
import { cliRunner, targetEnv, tempDir } from './support.js';

/** Everything an installation holds that export/import moves, read through the api. */
async function snapshot(service: BaasClient) {
  const collections = (await service.admin.collections.list()).map(({ name, fields, indexes, rules }) => ({ name, fields, indexes, rules }));
  const documents: Record<string, unknown[]> = {};
  for (const c of collections) {
    documents[c.name] = [];
    for await (const doc of service.collection(c.name).iterate({ sort: 'id' as never })) documents[c.name]!.push(doc);
  }
  const users = [];
  for await (const user of service.admin.transfer.allUsers()) users.push(user);
  const buckets = (await service.admin.buckets.list()).map(({ name, public: isPublic, maxFileSize, allowedMimeTypes }) => ({ name, isPublic, maxFileSize, allowedMimeTypes }));
  const files: Record<string, { info: FileInfo; bytes: string }[]> = {};
  for (const b of buckets) {
    files[b.name] = [];
    for await (const info of service.storage.from(b.name).iterate()) {
      files[b.name]!.push({ info, bytes: Buffer.from(await (await service.storage.download(info.id)).arrayBuffer()).toString('base64') });
    }
  }
  const functions = [];
  for (const f of (await service.admin.functions.list()).items) {
    const { source, language, triggers, timeoutMs, memoryMb, retries, backoffMs, concurrency } = await service.admin.functions.get(f.name);
    functions.push({ name: f.name, source, language, triggers, timeoutMs, memoryMb, retries, backoffMs, concurrency });
  }
  const templates = (await service.admin.email.templates.list()).map(({ name, subject, html, text, builtIn, overridden }) => ({ name, subject, html, text, builtIn, overridden }));
  return { collections, documents, users, buckets, files, functions, templates };
}

describe('CLI export / import: one installation into another, everything equal', () => {
  let from: Stack;
  let to: Stack;
  let dirs: ReturnType<typeof tempDir>;
  let a: ReturnType<typeof sdkClients>;
  let b: ReturnType<typeof sdkClients>;
  const ada = { email: uniqueEmail('ada'), password: PASSWORD };
  const bob = { email: uniqueEmail('bob'), password: `${PASSWORD} 2` };

  beforeAll(async () => {
    dirs = tempDir('transfer');
    // Each installation has its own database, queue prefix and file storage.
    from = await startStack({ STORAGE_LOCAL_DIR: join(dirs.path, 'storage-a') }, 0);
    to = await startStack({ STORAGE_LOCAL_DIR: join(dirs.path, 'storage-b') }, 1);
    a = sdkClients(from.apiUrl);
    b = sdkClients(to.apiUrl);

    // Users: one admin with a verified email, one disabled.
    const adaApp = a.app();
    const adaId = (await adaApp.auth.signUp(ada)).user.id;
    await a.service.admin.users.update(adaId, { roles: ['admin', 'editor'], emailVerified: true });
    const bobApp = a.app();
    const bobId = (await bobApp.auth.signUp(bob)).user.id;
    await a.service.admin.users.update(bobId, { disabled: true });

    // Collections, one referencing the other, with documents owned by a user, an acl, a second version.
    await a.service.admin.collections.create({
      name: 'authors',
      fields: [{ name: 'name', type: 'string', required: true, unique: true }],
      rules: { list: 'public', read: 'public', create: 'admin', update: 'admin', delete: 'admin' },
    } as never);
    await a.service.admin.collections.create({
      name: 'posts',
      fields: [
        { name: 'title', type: 'string', required: true },
        { name: 'author', type: 'reference', collection: 'authors' },
        { name: 'tags', type: 'array', items: 'string' },
        { name: 'meta', type: 'json' },
        { name: 'publishedAt', type: 'date' },
      ],
      indexes: [['publishedAt']],
      rules: { list: 'public', read: 'public', create: 'authenticated', update: 'owner', delete: 'owner' },
    } as never);
    const author = await a.service.collection('authors').create({ name: 'Ada Lovelace' });
    const posts = adaApp.collection('posts');
    for (let i = 0; i < 7; i++) {
      await posts.create({ title: `Post ${i}`, author: author.id, tags: ['x', `t${i}`], meta: { n: i, nested: { ok: true } }, publishedAt: '2026-01-02T03:04:05.000Z' });
    }
    const first = await posts.create({ title: 'Private', acl: { read: [`user:${adaId}`], write: [] } });
    await posts.update(first.id, { title: 'Private, edited' });

    // Documents whose JSON is larger than one request may carry (BODY_LIMIT_BYTES, 1 MiB): import sends them in several.
    await a.service.admin.collections.create({
      name: 'pages',
      fields: [{ name: 'body', type: 'string' }],
      rules: { list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' },
    } as never);
    for (let i = 0; i < 12; i++) await a.service.collection('pages').create({ body: `${i}`.padEnd(200_000, 'x') });

    // Files: a user's with an acl, and one of the service role, in two buckets.
    await a.service.admin.buckets.create({ name: 'pics', public: false, allowedMimeTypes: ['image/*', 'text/plain'] });
    await a.service.admin.buckets.create({ name: 'open', public: true });
    await adaApp.storage.from('pics').upload(new Blob(['hello from ada'], { type: 'text/plain' }), { key: 'ada/notes.txt', acl: { read: ['role:editor'] }, method: 'multipart' });
    await a.service.storage.from('open').upload(new Uint8Array([0, 1, 2, 3, 255]), { key: 'bin/data.bin', method: 'multipart' });

    // Email: a template of its own and a changed built-in one.
    await a.service.admin.email.templates.put('welcome', { subject: 'Welcome {{name}}', html: '<p>Hi {{name}}</p>', text: 'Hi {{name}}' });
    await a.service.admin.email.templates.put('verification', { subject: 'Confirm, please', html: '<a href="{{link}}">confirm</a>', text: 'Confirm: {{link}}' });

    // A function with a secret, a db trigger and an http trigger with its access settings (they move too).
    await a.service.admin.functions.deploy('count-posts', {
      source: `export default async (event, ctx) => ({ posts: (await ctx.db.collection('posts').list({ limit: 100 })).items.length, key: ctx.env.API_KEY ?? null });`,
      language: 'js',
      triggers: [{ type: 'http', access: 'role:editor', callerLogs: true, runAs: 'function' }, { type: 'db', collection: 'posts', events: ['create'] }],
      timeoutMs: 4000,
      secrets: { API_KEY: 'sk_live_1' },
    } as never);
  });

  afterAll(async () => {
    a?.expectContractKept();
    b?.expectContractKept();
    await from?.close();
    await to?.close();
    dirs?.remove();
  });

  it('exports to a folder and an archive, imports the archive, and the two installations hold the same', { timeout: 120_000 }, async () => {
    const cliA = cliRunner(dirs.path, targetEnv(from.apiUrl));
    const cliB = cliRunner(dirs.path, targetEnv(to.apiUrl));

    const exported = await cliA(['export', 'dump', '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.json()).toMatchObject({
      counts: { collections: 3, documents: 21, users: 2, buckets: 2, files: 2, functions: 1, bytes: 19, templates: 2 },
    });
    const dump = join(dirs.path, 'dump');
    expect(readdirSync(dump).sort()).toEqual(['collections', 'email', 'export.json', 'files', 'functions', 'users.ndjson']);
    // No password in clear: only argon2 hashes.
    const users = readFileSync(join(dump, 'users.ndjson'), 'utf8');
    expect(users).not.toContain(PASSWORD);
    expect(users).toMatch(/"passwordHash":"\$argon2id\$/);
    // No secret value: only its name.
    const fn = readFileSync(join(dump, 'functions', 'count-posts.json'), 'utf8');
    expect(fn).not.toContain('sk_live_1');
    expect(JSON.parse(fn)).toMatchObject({ secretNames: ['API_KEY'], triggers: [{ type: 'http', access: 'role:editor', callerLogs: true, runAs: 'function' }, { type: 'db' }] });

    const archived = await cliA(['export', 'dump.tar.gz']);
    expect(archived.code, archived.stderr).toBe(0);
    expect(existsSync(join(dirs.path, 'dump.tar.gz'))).toBe(true);

    const imported = await cliB(['import', 'dump.tar.gz', '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.json()).toMatchObject({
      imported: {
        users: { created: 2, skipped: 0 },
        collections: { created: 3, skipped: 0 },
        documents: { created: 21, skipped: 0 },
        buckets: { created: 2, skipped: 0 },
        files: { created: 2, skipped: 0 },
        functions: { created: 1, skipped: 0 },
        templates: { created: 2, skipped: 0 },
      },
      warnings: [expect.stringContaining('count-posts: set the secret(s) API_KEY again')],
    });

    const before = await snapshot(a.service);
    const after = await snapshot(b.service);
    expect(after).toEqual(before);
    expect(after.documents['posts']).toHaveLength(8);
    expect(after.documents['pages']).toHaveLength(12);
    expect(after.documents['posts']).toContainEqual(expect.objectContaining({ title: 'Private, edited', version: 2, acl: { read: [expect.stringMatching(/^user:/)], write: [] } }));

    // The same accounts work there: same ids, same passwords, roles, disabled flag.
    const session = await b.app().auth.signInWithPassword(ada);
    expect(session.user).toMatchObject({ id: before.users.find((u) => u.email === ada.email)!.id, roles: ['admin', 'editor'], emailVerified: true });
    await expect(b.app().auth.signInWithPassword(bob)).rejects.toMatchObject({ statusCode: 403, code: 'ACCOUNT_DISABLED' });
    // The owner's rules hold on the copied documents and files.
    const adaOnB = b.app();
    await adaOnB.auth.signInWithPassword(ada);
    const priv = after.documents['posts']!.find((d) => (d as { title: string }).title === 'Private, edited') as { id: string };
    expect(await adaOnB.collection('posts').get(priv.id)).toMatchObject({ title: 'Private, edited' });
    await expect(b.app().collection('posts').get(priv.id)).rejects.toMatchObject({ statusCode: 404 });
    const adaFile = after.files['pics']![0]!.info;
    expect(await (await adaOnB.storage.download(adaFile.id)).text()).toBe('hello from ada');

    // The function runs there once its secret is set again; the import itself ran nothing.
    expect((await to.db.query(`SELECT count(*)::int AS n FROM function_runs`)).rows[0]).toEqual({ n: 0 });
    const result = await b.service.functions.invoke('count-posts');
    expect(result).toMatchObject({ status: 'succeeded', result: { posts: 8, key: null } });

    // Running it again changes nothing: every id is there already.
    const again = await cliB(['import', 'dump', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({
      imported: { users: { created: 0, skipped: 2 }, documents: { created: 0, skipped: 21 }, files: { created: 0, skipped: 2 }, functions: { created: 0, skipped: 1 }, templates: { created: 0, skipped: 2 } },
    });
    const afterAgain = await snapshot(b.service);
    expect(afterAgain).toEqual(after);
  });

  it('--only moves some parts; bad sources and targets are refused with exit 2', async () => {
    const cliA = cliRunner(dirs.path, targetEnv(from.apiUrl));
    const only = await cliA(['export', 'users-only', '--only', 'users', '--json']);
    expect(only.code, only.stderr).toBe(0);
    expect(readdirSync(join(dirs.path, 'users-only')).sort()).toEqual(['export.json', 'users.ndjson']);
    expect((await cliA(['export', 'x', '--only', 'users,secrets'])).code).toBe(2);
    const notEmpty = await cliA(['export', 'users-only']);
    expect([notEmpty.code, notEmpty.stderr]).toEqual([2, expect.stringContaining('is not empty')]);
    expect((await cliA(['import', 'nowhere'])).code).toBe(2);
    writeFileSync(join(dirs.path, 'junk.tar.gz'), 'not an archive');
    expect((await cliA(['import', 'junk.tar.gz'])).code).toBe(2);
    // A damaged export: named, exit 2, no stack trace.
    cpSync(join(dirs.path, 'dump'), join(dirs.path, 'damaged'), { recursive: true });
    writeFileSync(join(dirs.path, 'damaged', 'files', 'buckets.json'), '[{');
    const damaged = await cliA(['import', 'damaged', '--only', 'files']);
    expect([damaged.code, damaged.stderr]).toEqual([2, expect.stringContaining('buckets.json is not JSON')]);
    rmSync(join(dirs.path, 'damaged', 'files', 'buckets.json'));
    expect((await cliA(['import', 'damaged', '--only', 'files'])).stderr).toContain('buckets.json is missing');
    const notExport = await cliA(['import', 'storage-a']);
    expect([notExport.code, notExport.stderr]).toEqual([2, expect.stringContaining('no export.json')]);
  });

  it('the transfer routes check what they are given and who asks', async () => {
    const transfer = a.service.admin.transfer;
    await expect(
      transfer.importUsers([{ id: crypto.randomUUID(), email: uniqueEmail('x'), passwordHash: 'hunter2', emailVerified: false, roles: [], disabled: false, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() }]),
    ).rejects.toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', details: [expect.objectContaining({ path: 'users.0.passwordHash' })] });
    const now = new Date().toISOString();
    // A user whose email another account has is skipped and named.
    const [someone] = (await transfer.users({ limit: 1 })).items;
    const clash = { ...someone!, id: crypto.randomUUID() };
    expect(await transfer.importUsers([clash])).toEqual({ created: 0, skipped: [clash.id], emailTaken: [clash.id] });
    expect(await transfer.importUsers([someone!])).toEqual({ created: 0, skipped: [someone!.id], emailTaken: [] });
    // Reading users with their hashes is audited.
    const audited = await from.db.query(`SELECT actor, data FROM audit_logs WHERE event = 'users.export' ORDER BY created_at DESC LIMIT 1`);
    expect(audited.rows[0]).toMatchObject({ actor: expect.stringMatching(/^service:/), data: { count: 1 } });
    await expect(transfer.importDocuments('posts', [{ id: crypto.randomUUID(), title: 42, createdAt: now, updatedAt: now } as never])).rejects.toMatchObject({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      details: [expect.objectContaining({ path: 'documents.0.title' })],
    });
    await expect(transfer.importDocuments('nope', [{ id: crypto.randomUUID(), createdAt: now, updatedAt: now } as never])).rejects.toMatchObject({ statusCode: 404, code: 'COLLECTION_NOT_FOUND' });
    const dupe = crypto.randomUUID();
    await expect(transfer.importDocuments('authors', [{ id: dupe, name: 'A', createdAt: now, updatedAt: now }, { id: dupe, name: 'B', createdAt: now, updatedAt: now }] as never)).rejects.toMatchObject({ statusCode: 400 });
    await expect(transfer.importDocuments('authors', [{ id: crypto.randomUUID(), name: 'Ada Lovelace', createdAt: now, updatedAt: now }] as never)).rejects.toMatchObject({ statusCode: 409, code: 'DATA_CONFLICT' });
    const existing = (await a.service.storage.from('open').list()).items[0]!;
    await expect(transfer.importFile('open', new Blob(['other bytes']), { ...existing, key: 'elsewhere.bin' })).rejects.toMatchObject({ statusCode: 409, code: 'FILE_EXISTS' });
    // The existing file's bytes are untouched by the refused import.
    expect(new Uint8Array(await (await a.service.storage.download(existing.id)).arrayBuffer())).toEqual(new Uint8Array([0, 1, 2, 3, 255]));
    await expect(transfer.importFile('open', new Blob(['x']), { id: 'not-a-uuid', key: 'k', ownerId: null, createdAt: now, contentType: 'text/plain' })).rejects.toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });

    // Only admins and service keys: a signed-in user and an anonymous caller are refused.
    const user = a.app();
    await user.auth.signUp({ email: uniqueEmail('plain'), password: PASSWORD });
    await expect(user.admin.transfer.users()).rejects.toMatchObject({ statusCode: 403 });
    await expect(a.app().admin.transfer.users()).rejects.toMatchObject({ statusCode: 401 });
  });

  it('an export of format 1 (before the new access model) imports http triggers without access as public', async () => {
    const old = join(dirs.path, 'format-1');
    mkdirSync(join(old, 'functions'), { recursive: true });
    writeFileSync(join(old, 'export.json'), JSON.stringify({ format: 'selfbaas-export', version: 1, exportedAt: new Date().toISOString(), source: 'http://old', parts: ['functions'], counts: { functions: 2 } }));
    const definition = { language: 'js', timeoutMs: 10000, memoryMb: 128, retries: 2, backoffMs: 1000, concurrency: 10, secretNames: [] };
    writeFileSync(join(old, 'functions', 'old-open.json'), JSON.stringify({ ...definition, name: 'old-open', source: `export default async () => 'open';`, triggers: [{ type: 'http' }] }));
    writeFileSync(join(old, 'functions', 'old-admin.json'), JSON.stringify({ ...definition, name: 'old-admin', source: `export default async () => 'admin';`, triggers: [{ type: 'http', access: 'admin' }] }));
    const cliB = cliRunner(dirs.path, targetEnv(to.apiUrl));
    const imported = await cliB(['import', 'format-1', '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    expect((await b.service.admin.functions.get('old-open')).triggers).toEqual([{ type: 'http', access: 'public' }]);
    expect((await b.service.admin.functions.get('old-admin')).triggers).toEqual([{ type: 'http', access: 'role:admin' }]);
    // Imported again: the same (the stored role:admin is the old admin, public is public).
    expect((await cliB(['import', 'format-1', '--json'])).json()).toMatchObject({ imported: { functions: { created: 0, skipped: 2 } } });
    // A newer format than this CLI knows is refused.
    writeFileSync(join(old, 'export.json'), JSON.stringify({ format: 'selfbaas-export', version: 3, parts: ['functions'] }));
    expect((await cliB(['import', 'format-1'])).code).toBe(2);
    for (const name of ['old-open', 'old-admin']) await b.service.admin.functions.delete(name);
  });
});
