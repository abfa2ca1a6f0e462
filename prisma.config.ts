import { defineConfig } from 'prisma/config';

// The CLI is used only for `prisma generate` here; migrations are applied by the project's
// own runner (libs/database/src/migrator.ts), which keeps Prisma's _prisma_migrations format.
export default defineConfig({
  schema: 'prisma/schema',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/baas' },
});
