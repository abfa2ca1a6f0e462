export { DatabaseModule } from './database.module.js';
export { createPgPool, PG_POOL } from './pg-pool.js';
export { PrismaService } from './prisma.service.js';
export { isUniqueViolation, mapDatabaseError, type MappedDbError, pgErrorOf } from './database-errors.js';
export { createDb, type DB, type Db, KYSELY, type Tx, withTransaction } from './db.js';
export { migrate, readMigrations, MigrationError, type MigrateResult, type MigrationFile } from './migrator.js';
export { defaultMigrationsDir } from './paths.js';
export { Prisma } from './generated/client.js';
export { type ArgsOf, prepare, type Prepared } from './prepared.js';
