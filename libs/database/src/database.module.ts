import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type pg from 'pg';
import { APP_CONFIG } from '#libs/config';
import { createPgPool, PG_POOL } from './pg-pool.js';
import { PrismaService } from './prisma.service.js';
import { createDb, KYSELY } from './db.js';

@Global()
@Module({
  providers: [
    { provide: PG_POOL, inject: [APP_CONFIG], useFactory: createPgPool },
    { provide: KYSELY, inject: [PG_POOL], useFactory: createDb },
    PrismaService,
  ],
  exports: [PG_POOL, KYSELY, PrismaService],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}
