export { DatabaseModule } from './database.module.js';
export { createPgPool, PG_POOL } from './pg-pool.js';
export { PrismaService } from './prisma.service.js';
export { mapDatabaseError, type MappedDbError } from './database-errors.js';
export { migrate, readMigrations, MigrationError, type MigrateResult, type MigrationFile } from './migrator.js';
export { defaultMigrationsDir } from './paths.js';
export { Prisma } from './generated/client.js';
