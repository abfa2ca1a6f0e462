import { Global, Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { createStorageDriver, createUrlSigner } from './create-driver.js';
import type { UrlSigner } from './signed-url.js';
import type { StorageDriver } from './storage-driver.js';

/** Injection token of the process's StorageDriver. */
export const STORAGE_DRIVER = Symbol('STORAGE_DRIVER');
/** Injection token of the UrlSigner behind the local driver's signed URLs. */
export const URL_SIGNER = Symbol('URL_SIGNER');

/** How long a starting process waits for an S3 server that is not up yet (it may start alongside). */
export const STORAGE_INIT_TIMEOUT_MS = 60_000;

/**
 * Runs `init` until it succeeds, every `intervalMs`, for at most `timeoutMs`; then rethrows
 * the last error. `onRetry` hears about each failed attempt.
 */
export async function initWithRetry(
  init: () => Promise<void>,
  { timeoutMs, intervalMs, onRetry }: { timeoutMs: number; intervalMs: number; onRetry?: (err: unknown) => void },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await init();
    } catch (err) {
      if (Date.now() + intervalMs > deadline) throw err;
      onRetry?.(err);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

/**
 * Provides the configured StorageDriver, prepared at start (directory or S3 bucket created
 * when missing). An S3 server that does not answer yet is waited for: in the compose stack
 * it starts beside the api, not before it.
 */
@Global()
@Module({
  providers: [
    { provide: URL_SIGNER, inject: [APP_CONFIG], useFactory: createUrlSigner },
    {
      provide: STORAGE_DRIVER,
      inject: [APP_CONFIG, URL_SIGNER],
      useFactory: (config: AppConfig, signer: UrlSigner) => createStorageDriver(config, signer),
    },
  ],
  exports: [STORAGE_DRIVER, URL_SIGNER],
})
export class StorageDriverModule implements OnModuleInit {
  private readonly logger = new Logger('Storage');

  constructor(@Inject(STORAGE_DRIVER) private readonly driver: StorageDriver) {}

  async onModuleInit(): Promise<void> {
    if (this.driver.kind !== 's3') return this.driver.init();
    await initWithRetry(() => this.driver.init(), {
      timeoutMs: STORAGE_INIT_TIMEOUT_MS,
      intervalMs: 2000,
      onRetry: (err) => this.logger.warn(`S3 not ready (${err instanceof Error ? err.message : String(err)}); retrying`),
    });
  }
}
