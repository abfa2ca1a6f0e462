import { parseArgs } from 'node:util';
import { loadConfig } from '#libs/config';
import { createPgPool, PrismaService, withTransaction } from '#libs/database';
import { emailSchema, passwordSchema } from '../apps/api/src/auth/auth.dto.js';
import { hashPassword } from '../apps/api/src/auth/password.js';

// `npm run admin:create -- --email you@example.com` with the password in ADMIN_PASSWORD
// (or --password): creates the account as an admin, or makes an existing one an admin
// (its password is then changed only when one is given).
const { values } = parseArgs({ options: { email: { type: 'string' }, password: { type: 'string' } } });
const email = emailSchema.safeParse(values.email ?? process.env.ADMIN_EMAIL);
const rawPassword = values.password ?? process.env.ADMIN_PASSWORD;
const password = rawPassword === undefined ? undefined : passwordSchema.safeParse(rawPassword);
if (!email.success) fail('Give the admin email with --email (or ADMIN_EMAIL).');
if (password && !password.success) fail('The password must be 8 to 256 characters.');

const config = loadConfig();
const pool = createPgPool(config);
const prisma = new PrismaService(pool);
try {
  const passwordHash = password?.success ? await hashPassword(password.data) : undefined;
  const existing = await prisma.user.findUnique({ where: { email: email.data } });
  if (!existing && !passwordHash) fail('A new admin needs a password: --password or ADMIN_PASSWORD.');
  const user = await withTransaction(pool, async ({ db }) => {
    const saved = existing
      ? await db
          .updateTable('users')
          .set({ roles: [...new Set([...existing.roles, 'admin'])], disabled: false, updated_at: new Date(), ...(passwordHash ? { password_hash: passwordHash } : {}) })
          .where('id', '=', existing.id)
          .returning(['id', 'email', 'roles'])
          .executeTakeFirstOrThrow()
      : await db
          .insertInto('users')
          .values({ email: email.data, password_hash: passwordHash!, roles: ['admin'], email_verified: true, updated_at: new Date() })
          .returning(['id', 'email', 'roles'])
          .executeTakeFirstOrThrow();
    await db
      .insertInto('audit_logs')
      .values({ event: 'role.change', user_id: saved.id, actor: 'cli:admin:create', data: JSON.stringify({ before: existing?.roles ?? [], after: saved.roles }) })
      .execute();
    return saved;
  });
  process.stdout.write(`${existing ? 'Made admin' : 'Created admin'}: ${user.email} (${user.id})\n`);
} finally {
  await prisma.$disconnect();
  await pool.end();
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
