import { Global, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { createStorageDriver, createUrlSigner } from './create-driver.js';
import type { UrlSigner } from './signed-url.js';
import type { StorageDriver } from './storage-driver.js';

/** Injection token of the process's StorageDriver. */
export const STORAGE_DRIVER = Symbol('STORAGE_DRIVER');
/** Injection token of the UrlSigner behind the local driver's signed URLs. */
export const URL_SIGNER = Symbol('URL_SIGNER');

/** Provides the configured StorageDriver (prepared at start: directory or S3 bucket created when missing). */
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
  constructor(@Inject(STORAGE_DRIVER) private readonly driver: StorageDriver) {}

  async onModuleInit(): Promise<void> {
    await this.driver.init();
  }
}
