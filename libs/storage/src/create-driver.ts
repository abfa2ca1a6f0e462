import type { AppConfig } from '#libs/config';
import { LocalDiskDriver } from './local-disk.driver.js';
import { S3Driver } from './s3.driver.js';
import { UrlSigner } from './signed-url.js';
import type { StorageDriver } from './storage-driver.js';

/** The api route that serves the local driver's signed URLs (see apps/api/src/storage). */
export const SIGNED_URL_PATH = '/v1/storage/signed';

/** The signer of the local driver's URLs; the api verifies with the same secret. */
export function createUrlSigner(config: AppConfig): UrlSigner {
  return new UrlSigner(config.JWT_SECRET);
}

/** The driver the configuration asks for: S3 (MinIO) when STORAGE_DRIVER=s3, else the local disk. */
export function createStorageDriver(config: AppConfig, signer: UrlSigner = createUrlSigner(config)): StorageDriver {
  if (config.STORAGE_DRIVER === 's3') {
    // The config schema requires these three when STORAGE_DRIVER=s3.
    return new S3Driver({
      endpoint: config.S3_ENDPOINT!,
      publicEndpoint: config.S3_PUBLIC_ENDPOINT,
      accessKey: config.S3_ACCESS_KEY!,
      secretKey: config.S3_SECRET_KEY!,
      region: config.S3_REGION,
      bucket: config.S3_BUCKET,
      pathStyle: config.S3_PATH_STYLE,
    });
  }
  return new LocalDiskDriver({ root: config.STORAGE_LOCAL_DIR, signer, signedUrlBase: `${config.PUBLIC_URL}${SIGNED_URL_PATH}` });
}
