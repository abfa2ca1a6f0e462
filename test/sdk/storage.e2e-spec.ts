import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BaasClient, type FileInfo, type UploadProgress } from '../../packages/sdk/src/index.js';
import { startStorageApi, type StorageHarness } from '../storage/harness.js';
import { ensureSdkBuilt, PASSWORD, sdkClients, uniqueEmail } from './support.js';

const BIG = 50 * 1024 * 1024;
const MiB = 1024 * 1024;

/** Writes `size` random bytes to a file, 1 MiB at a time; answers its sha256. */
async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += MiB) {
    const chunk = randomBytes(Math.min(MiB, size - written));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return hash.digest('hex');
}

describe('SDK storage against the real api (local driver)', () => {
  let harness: StorageHarness;
  let sdk: ReturnType<typeof sdkClients>;
  let user: BaasClient;
  let dir: string;
  const bucket = `sdk-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baas-sdk-'));
    await ensureSdkBuilt();
    harness = await startStorageApi('local');
    sdk = sdkClients(harness.baseUrl);
    await sdk.service.admin.buckets.create({ name: bucket });
    user = sdk.app();
    await user.auth.signUp({ email: uniqueEmail('sdk-storage'), password: PASSWORD });
  });
  afterAll(async () => {
    sdk?.expectContractKept();
    await harness?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads a 50 MB file from disk with progress and streams it back, never holding it in memory', { timeout: 120_000 }, async () => {
    const path = join(dir, 'big.bin');
    const sha = await writeRandomFile(path, BIG);
    const client = sdk.app();
    const session = await client.auth.signUp({ email: uniqueEmail('sdk-big'), password: PASSWORD });
    // The transfer runs in a process of its own (the built SDK, as an app has it), so its
    // memory is the client's alone; the api is this process.
    const child = await promisify(execFile)(process.execPath, ['--expose-gc', 'test/sdk/fixtures/transfer-child.mjs'], {
      env: {
        URL: sdk.url,
        BUCKET: bucket,
        FILE: path,
        TOKENS: JSON.stringify({ user: session.user, accessToken: session.accessToken, refreshToken: session.refreshToken, expiresIn: session.expiresIn }),
      },
      maxBuffer: 1024 * 1024,
    });
    const report = JSON.parse(child.stdout) as {
      file: FileInfo;
      uploadPeak: number;
      events: number;
      last: UploadProgress;
      download: { bytes: number; sha256: string; size: number };
      downloadPeak: number;
    };
    expect(report.file).toMatchObject({ key: 'big/one.bin', size: BIG, status: 'ready', checksum: sha, bucket });
    expect(report.events).toBeGreaterThan(10);
    expect(report.last).toEqual({ loaded: BIG, total: BIG });
    expect(report.download).toEqual({ bytes: BIG, sha256: sha, size: BIG });
    // Streamed both ways: live buffers stayed far below the file's 50 MB.
    expect(report.uploadPeak).toBeLessThan(8 * MiB);
    expect(report.downloadPeak).toBeLessThan(8 * MiB);

    const part = await client.storage.stream(report.file.id, { range: { start: 10, end: 109 } });
    expect(part).toMatchObject({ status: 206, size: 100, contentRange: `bytes 10-109/${BIG}` });
    expect((await new Response(part.body).arrayBuffer()).byteLength).toBe(100);
  });

  it('uploads bytes by multipart and a stream by presigned PUT; lists by prefix; downloads; signed URLs; deletes', async () => {
    const files = user.storage.from(bucket);
    const a = await files.upload(new TextEncoder().encode('hello a'), { key: 'docs/a.txt', contentType: 'text/plain', method: 'multipart' });
    expect(a).toMatchObject({ key: 'docs/a.txt', size: 7, contentType: expect.stringContaining('text/plain') });
    const text = new TextEncoder().encode('hello from a stream');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(text.slice(0, 5));
        controller.enqueue(text.slice(5));
        controller.close();
      },
    });
    const b = await files.upload(stream, { key: 'docs/b.txt', size: text.byteLength, contentType: 'text/plain' });
    expect(b).toMatchObject({ size: text.byteLength, status: 'ready' });
    await files.upload(new Blob(['other'], { type: 'text/plain' }), { key: 'other/c.txt' });

    expect((await files.list({ prefix: 'docs/' })).items.map((f) => f.key)).toEqual(['docs/a.txt', 'docs/b.txt']);
    const all: string[] = [];
    for await (const f of files.iterate({ limit: 1 })) all.push(f.key);
    expect(all).toEqual(expect.arrayContaining(['docs/a.txt', 'docs/b.txt', 'other/c.txt']));

    expect(await (await user.storage.download(b.id)).text()).toBe('hello from a stream');
    expect(await user.storage.info(a.id)).toMatchObject({ id: a.id, key: 'docs/a.txt' });

    // A private bucket's file: nothing without credentials, the bytes with a signed URL.
    const anonymous = await fetch(user.storage.publicUrl(a.id));
    expect(anonymous.status).toBe(404);
    const signed = await user.storage.createSignedUrl(a.id, { download: true });
    const viaSigned = await fetch(signed.url);
    expect(viaSigned.status).toBe(200);
    expect(await viaSigned.text()).toBe('hello a');

    await user.storage.remove(a.id);
    await expect(user.storage.info(a.id)).rejects.toMatchObject({ statusCode: 404, code: 'FILE_NOT_FOUND' });
  });

  it('refuses a bad key, an unknown bucket and a stream without a size', async () => {
    const files = user.storage.from(bucket);
    await expect(files.upload(new Blob(['12345']), { method: 'multipart', key: '../x' })).rejects.toMatchObject({ statusCode: 400 });
    await expect(user.storage.from('no-such-bucket').upload(new Blob(['x']))).rejects.toMatchObject({ statusCode: 404, code: 'BUCKET_NOT_FOUND' });
    await expect(files.upload(new ReadableStream<Uint8Array>())).rejects.toThrow(/size/);
  });
});
