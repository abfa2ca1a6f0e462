import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { STORAGE_DRIVER, type StorageDriver } from '#libs/storage';
import { startApi } from '../support/app.js';
import { testConfig } from '../support/config.js';
import { type S3Emulator, startS3Emulator } from '../support/s3-emulator.js';

export type DriverKind = 'local' | 's3';
export const DRIVERS: DriverKind[] = ['local', 's3'];

export interface StorageHarness {
  kind: DriverKind;
  app: NestFastifyApplication;
  driver: StorageDriver;
  /** Where the api listens (presigned URLs of the local driver point here). */
  baseUrl: string;
  /** The local driver's directory (local only). */
  localDir?: string;
  emulator?: S3Emulator;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

/**
 * The real api, listening on 127.0.0.1, with the given storage driver: the local disk in a
 * fresh temporary directory, or S3 against an emulator started here.
 */
export async function startStorageApi(kind: DriverKind, overrides: Record<string, string> = {}): Promise<StorageHarness> {
  const port = await freePort();
  const localDir = kind === 'local' ? await mkdtemp(join(tmpdir(), 'baas-storage-')) : undefined;
  const emulator = kind === 's3' ? await startS3Emulator() : undefined;
  const config = testConfig({
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    ...(localDir ? { STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: localDir } : {}),
    ...(emulator?.env ?? {}),
    ...overrides,
  });
  const app = await startApi(config);
  await app.listen({ port, host: '127.0.0.1' });
  return {
    kind,
    app,
    driver: app.get<StorageDriver>(STORAGE_DRIVER),
    baseUrl: `http://127.0.0.1:${port}`,
    localDir,
    emulator,
    async close() {
      await app.close();
      await emulator?.stop();
      if (localDir) await rm(localDir, { recursive: true, force: true });
    },
  };
}
