import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface S3Emulator {
  endpoint: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  /** Settings that point an app under test at this emulator (merge into testConfig()). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * An S3-compatible server (npm `s3rver`) in this process, on a free port, storing into a
 * fresh temporary directory, with one bucket. It stands in for MinIO, which cannot run
 * here. Like other emulators it differs from MinIO on multipart uploads: tests keep their
 * objects small, so the driver uses single PUTs (see DESIGN.md).
 */
export async function startS3Emulator(bucket = 'baas-test'): Promise<S3Emulator> {
  const directory = await mkdtemp(join(tmpdir(), 'baas-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  // s3rver's fixed credentials; it checks signatures made with them.
  const accessKey = 'S3RVER';
  const secretKey = 'S3RVER';
  return {
    endpoint,
    bucket,
    accessKey,
    secretKey,
    env: {
      STORAGE_DRIVER: 's3',
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY: accessKey,
      S3_SECRET_KEY: secretKey,
      S3_BUCKET: bucket,
      S3_REGION: 'us-east-1',
      S3_PATH_STYLE: 'true',
    },
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
