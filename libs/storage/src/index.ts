export * from './storage-driver.js';
export { assertObjectKey, BUCKET_NAME, fileKeyProblem, fileNameOf, MAX_FILE_KEY_BYTES, MAX_OBJECT_KEY_LENGTH } from './object-key.js';
export { detectContentType, isActiveContentType, isSafeInlineType, mimeTypeAllowed, normalizeMimeType, SNIFF_BYTES } from './content-type.js';
export { discard, measure, type Measured, peekHead } from './streams.js';
export { type SignedUrlClaims, UrlSigner } from './signed-url.js';
export { LocalDiskDriver, type LocalDiskDriverOptions } from './local-disk.driver.js';
export { S3Driver, type S3DriverOptions } from './s3.driver.js';
export { createStorageDriver, createUrlSigner, SIGNED_URL_PATH } from './create-driver.js';
export { STORAGE_DRIVER, StorageDriverModule, URL_SIGNER } from './storage-driver.module.js';
