import { parseArgs } from 'node:util';
import { loadConfig } from '#libs/config';
import { createPgPool, PrismaService } from '#libs/database';
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
  const user = await prisma.$transaction(async (tx) => {
    const saved = existing
      ? await tx.user.update({
          where: { id: existing.id },
          data: { roles: [...new Set([...existing.roles, 'admin'])], disabled: false, ...(passwordHash ? { passwordHash } : {}) },
        })
      : await tx.user.create({ data: { email: email.data, passwordHash: passwordHash!, roles: ['admin'], emailVerified: true } });
    await tx.auditLog.create({
      data: { event: 'role.change', userId: saved.id, actor: 'cli:admin:create', data: { before: existing?.roles ?? [], after: saved.roles } },
    });
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
