import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const port = z.coerce.number().int().min(0).max(65535); // 0 = any free port (tests)
const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

/** `<points>/<seconds>`, e.g. `600/60`; `0` turns the group's limit off. */
const rateLimit = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,8}\/[1-9][0-9]{0,5})$/, 'must be <requests>/<seconds> (e.g. 600/60) or 0 (no limit)')
  .transform((v) => {
    if (v === '0') return null;
    const [points, seconds] = v.split('/').map(Number) as [number, number];
    return { points, seconds };
  });

/** An allowed CORS origin: `*`, an exact origin, or one with a `*.` wildcard for subdomains. */
const corsOrigin = /^(\*|(https?:\/\/)?(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?)$/i;

/**
 * TRUST_PROXY as Fastify takes it: `true`/`false`, a hop count, or a comma list of
 * addresses and CIDR ranges of the proxies whose X-Forwarded-For is believed.
 */
const trustProxy = z.string().transform((v, ctx): boolean | number | string[] => {
  const lower = v.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(lower)) return true;
  if (['false', '0', 'no'].includes(lower)) return false;
  if (/^[1-9][0-9]?$/.test(lower)) return Number(lower);
  const list = lower.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length > 0 && list.every((s) => /^[0-9a-f.:]+(\/[0-9]{1,3})?$/.test(s) || ['loopback', 'linklocal', 'uniquelocal'].includes(s))) {
    return list;
  }
  ctx.addIssue({ code: 'custom', message: 'must be true, false, a hop count, or a comma list of proxy addresses/CIDRs' });
  return z.NEVER;
});

const DEV_JWT_SECRET = 'dev-only-insecure-jwt-secret-change-me-0123456789';

/** Every setting of api and worker, read from the environment once at boot. */
const settings = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  // The public host name behind the compose stack's proxy (docs/self-hosting.md); PUBLIC_URL defaults to https://DOMAIN.
  DOMAIN: z
    .string()
    .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i, 'must be a host name such as baas.example.com (no scheme, port or path)')
    .optional(),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgresql://postgres@127.0.0.1:5432/baas'),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
  /** Longest a document read (list, count, get, expand) may run in Postgres before it is stopped (503 QUERY_TIMEOUT); 0 = no limit. */
  DATA_QUERY_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(5_000),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -').default('baas'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().min(1).default('baas'),
  JWT_AUDIENCE: z.string().min(1).default('baas-api'),
  JWT_ACCESS_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
  REFRESH_TTL_SECONDS: z.coerce.number().int().min(300).max(365 * 86_400).default(30 * 86_400),
  APP_URL: url(['http:', 'https:']).optional(),
  AUTH_RATE_LIMIT_MAX: z.coerce.number().int().min(1).max(100_000).default(10),
  AUTH_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  // Lets OIDC issuers be plain http (a provider on loopback in tests or local development); never in production.
  AUTH_OIDC_ALLOW_INSECURE: bool.default(false),
  // Guests (anonymous users) with no session refreshed for this many hours are deleted by the worker.
  AUTH_GUEST_RETENTION_HOURS: z.coerce.number().int().min(1).max(87_600).default(720),
  AUTH_SESSION_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  // Account lifecycle (docs/auth.md): a refresh token presented again within this many seconds of its first use is a concurrent refresh, not a replay.
  AUTH_REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
  // Where sign-in flows may send the browser back to (magic links, OAuth): exact URLs or prefixes ending in `*`.
  AUTH_REDIRECT_URLS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.every((u) => URL.canParse(u.replace(/\*$/, ''))), { message: 'must be a comma list of absolute URLs (a trailing * allows any continuation)' }),
  SERVICE_API_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  STORAGE_DRIVER: z.enum(['local', 's3']).default('local'),
  STORAGE_LOCAL_DIR: z.string().min(1).default('./var/storage'),
  S3_ENDPOINT: url(['http:', 'https:']).optional(),
  S3_ACCESS_KEY: z.string().optional(),
  S3_SECRET_KEY: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
  // Storage (docs/storage.md): one physical S3 bucket holds every logical bucket as a key prefix.
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name').default('baas'),
  S3_PUBLIC_ENDPOINT: url(['http:', 'https:']).optional(),
  // Presigned URLs on PUBLIC_URL's origin, where a reverse proxy forwards /<S3_BUCKET>/* to S3 (the compose stack's Caddy).
  S3_PUBLIC_SAME_ORIGIN: bool.default(false),
  S3_PATH_STYLE: bool.default(true),
  STORAGE_MAX_FILE_SIZE_BYTES: z.coerce.number().int().min(1).max(5 * 1024 ** 3).default(5 * 1024 ** 3),
  STORAGE_UPLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 86_400).default(3600),
  STORAGE_DOWNLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(10).max(7 * 86_400).default(300),
  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: port.default(587),
  SMTP_USER: z.string().optional(),
  SMTP_PASS: z.string().optional(),
  SMTP_SECURE: bool.default(false),
  MAIL_FROM: z.string().min(3).default('BaaS <no-reply@localhost>'),
  MAIL_DIR: z.string().min(1).default('./var/mail'),
  EMAIL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(12),
  EMAIL_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  EMAIL_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  // Functions (docs/functions.md). The secrets key defaults to a derivation of JWT_SECRET.
  FUNCTIONS_SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  API_INTERNAL_URL: url(['http:', 'https:']).optional(),
  SANDBOX_HOSTS: z.coerce.number().int().min(1).max(16).default(2),
  SANDBOX_HOST_IDLE_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
  SANDBOX_ISOLATE_IDLE_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
  SANDBOX_WARM_MEMORY_MB: z.coerce.number().int().min(16).max(65_536).default(256),
  SANDBOX_WARM_ISOLATES: z.coerce.number().int().min(1).max(10_000).default(200),
  FUNCTIONS_LOG_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(64 * 1024),
  FUNCTIONS_LOCK_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  OUTBOX_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  FUNCTIONS_RUN_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  RETENTION_SWEEP_INTERVAL_MS: z.coerce.number().int().min(1000).max(86_400_000).default(3_600_000),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  TRUST_PROXY: trustProxy.default(false),
  // Gateway (docs/self-hosting.md, "Gateway"): CORS, rate limits, caching, compression, timeouts.
  CORS_ORIGINS: z
    .string()
    .default('*')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.length > 0 && list.every((o) => corsOrigin.test(o)), {
      message: 'must be * or a comma list of origins (https://app.example.com, *.example.com)',
    }),
  CORS_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(600),
  RATE_LIMIT_ENABLED: bool.default(true),
  RATE_LIMIT_READS: rateLimit.prefault('600/60'),
  RATE_LIMIT_WRITES: rateLimit.prefault('120/60'),
  RATE_LIMIT_UPLOADS: rateLimit.prefault('30/60'),
  RATE_LIMIT_INVOKES: rateLimit.prefault('120/60'),
  RATE_LIMIT_AUTH: rateLimit.prefault('60/60'),
  RATE_LIMIT_EXEMPT_SERVICE_KEY: bool.default(true),
  /** How often each replica adds the counts it kept in memory to the shared Redis counters (ms). */
  RATE_LIMIT_SYNC_MS: z.coerce.number().int().min(10).max(60_000).default(100),
  COMPRESSION_ENABLED: bool.default(true),
  COMPRESSION_THRESHOLD_BYTES: z.coerce.number().int().min(0).max(10 * 1024 * 1024).default(1024),
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(10_000),
  BODY_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  UPLOAD_TIMEOUT_MS: z.coerce.number().int().min(1000).max(24 * 3_600_000).default(3_600_000),
  BODY_IDLE_TIMEOUT_MS: z.coerce.number().int().min(500).max(600_000).default(10_000),
  KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(72_000),
  AUTH_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(64 * 1024),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  METRICS_PUBLIC: bool.default(false),
  METRICS_PORT: port.optional(),
  DASHBOARD_DIR: z.string().min(1).optional(),
  DASHBOARD_ENABLED: bool.default(true),
  // Realtime (docs/realtime.md): live queries over WebSocket and Server-Sent Events.
  REALTIME_ENABLED: bool.default(true),
  REALTIME_RESUME_WINDOW_SECONDS: z.coerce.number().int().min(10).max(3600).default(300),
  REALTIME_MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).max(10_000).default(100),
  REALTIME_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).max(100_000).default(20),
  REALTIME_MAX_BUFFER_BYTES: z.coerce.number().int().min(1024).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
  REALTIME_MAX_FRAME_BYTES: z.coerce.number().int().min(256).max(1024 * 1024).default(64 * 1024),
  REALTIME_PING_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
});

/** The names of every environment variable api and worker read (.env.example and compose are checked against it). */
export const CONFIG_KEYS: readonly string[] = Object.keys(settings.shape);

export const configSchema = settings
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required when NODE_ENV=production' });
    }
    if (env.NODE_ENV === 'production' && env.AUTH_OIDC_ALLOW_INSECURE) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_OIDC_ALLOW_INSECURE'], message: 'must be false when NODE_ENV=production (plain-http issuers are for tests and development)' });
    }
    for (const key of ['S3_ENDPOINT', 'S3_PUBLIC_ENDPOINT'] as const) {
      const value = env[key];
      if (value && URL.canParse(value) && new URL(value).pathname.replace(/\/+$/, '') !== '') {
        // The S3 client keeps only scheme, host and port: a path would be dropped silently.
        ctx.addIssue({ code: 'custom', path: [key], message: 'must have no path (scheme, host and port only)' });
      }
    }
    const publicPath = env.PUBLIC_URL && URL.canParse(env.PUBLIC_URL) ? new URL(env.PUBLIC_URL).pathname.replace(/\/+$/, '') : '';
    if (env.S3_PUBLIC_SAME_ORIGIN && !env.S3_PUBLIC_ENDPOINT && publicPath !== '') {
      // A path prefix would change the signed path of every presigned URL.
      ctx.addIssue({ code: 'custom', path: ['PUBLIC_URL'], message: 'must have no path when S3_PUBLIC_SAME_ORIGIN=true' });
    }
    // UPLOAD_TIMEOUT_MS is the server-wide request ceiling (Node refuses a headers timeout above it).
    for (const key of ['HEADERS_TIMEOUT_MS', 'BODY_TIMEOUT_MS'] as const) {
      if (env[key] > env.UPLOAD_TIMEOUT_MS) {
        ctx.addIssue({ code: 'custom', path: [key], message: `must not exceed UPLOAD_TIMEOUT_MS (${env.UPLOAD_TIMEOUT_MS})` });
      }
    }
    if (env.STORAGE_DRIVER === 's3') {
      for (const key of ['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY'] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when STORAGE_DRIVER=s3' });
      }
    }
  })
  .transform((env) => {
    const publicUrl = (env.PUBLIC_URL ?? (env.DOMAIN ? `https://${env.DOMAIN}` : `http://localhost:${env.PORT}`)).replace(/\/+$/, '');
    return {
      ...env,
      JWT_SECRET: env.JWT_SECRET ?? DEV_JWT_SECRET,
      PUBLIC_URL: publicUrl,
      API_INTERNAL_URL: (env.API_INTERNAL_URL ?? `http://127.0.0.1:${env.PORT}`).replace(/\/+$/, ''),
      APP_URL: (env.APP_URL ?? publicUrl).replace(/\/+$/, ''),
      // Unset = the driver signs for S3_ENDPOINT.
      S3_PUBLIC_ENDPOINT: env.S3_PUBLIC_ENDPOINT ?? (env.S3_PUBLIC_SAME_ORIGIN ? publicUrl : undefined),
    };
  });

export type AppConfig = z.output<typeof configSchema>;
