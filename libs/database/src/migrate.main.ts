import { loadConfig } from '#libs/config';
import { defaultMigrationsDir } from './paths.js';
import { migrate, MigrationError } from './migrator.js';

// `npm run db:migrate`: applies pending migrations to DATABASE_URL and exits.
const config = loadConfig();
try {
  const { applied, alreadyApplied } = await migrate(config.DATABASE_URL, defaultMigrationsDir());
  const summary = applied.length ? `applied ${applied.join(', ')}` : 'nothing to apply';
  process.stdout.write(`Migrations: ${summary} (${alreadyApplied.length} already applied).\n`);
} catch (err) {
  const message = err instanceof MigrationError ? err.message : `Migration failed: ${(err as Error).message}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
