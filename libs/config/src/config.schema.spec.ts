import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '#libs/config';

/** Runs parseConfig and returns the ConfigError it throws (fails the test if it does not). */
function configError(env: Record<string, string>): ConfigError {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError; // narrowed by the assertion above
  }
  throw new Error(`parseConfig accepted ${JSON.stringify(env)}`);
}

describe('parseConfig', () => {
  it('returns working defaults from an empty environment', () => {
    const config = parseConfig({});
    expect(new URL(config.DATABASE_URL).hostname).toBe('127.0.0.1');
    expect(config.DATABASE_URL).toMatch(/^postgres(ql)?:\/\//);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.PORT).toBe(3000);
    expect(config.NODE_ENV).toBe('development');
    expect(config.PUBLIC_URL).toBe('http://localhost:3000');
    expect(config.STORAGE_DRIVER).toBe('local');
    expect(config.SMTP_SECURE).toBe(false);
    // A development secret is filled in so the app boots, and it is long enough to be valid.
    expect(config.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
  });

  it('derives PUBLIC_URL from PORT, and strips a trailing slash from a given one', () => {
    expect(parseConfig({ PORT: '8080' }).PUBLIC_URL).toBe('http://localhost:8080');
    expect(parseConfig({ PUBLIC_URL: 'https://baas.example.com/' }).PUBLIC_URL).toBe('https://baas.example.com');
  });

  it('rejects PORT=abc with one line naming PORT and showing the bad value', () => {
    const err = configError({ PORT: 'abc' });
    expect(err.message).toMatch(/^Invalid configuration: PORT/);
    expect(err.message).not.toContain('\n');
    expect(err.message).toContain('"abc"');
  });

  it('requires JWT_SECRET in production', () => {
    const err = configError({ NODE_ENV: 'production' });
    expect(err.message).toMatch(/^Invalid configuration: JWT_SECRET/);
    expect(err.message).not.toContain('\n');
    expect(() => parseConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) })).not.toThrow();
  });

  it('rejects a short JWT_SECRET without printing it', () => {
    const secret = 'tooShortSecret123';
    const err = configError({ JWT_SECRET: secret });
    expect(err.message).toMatch(/^Invalid configuration: JWT_SECRET/);
    expect(err.message).not.toContain(secret);
    expect(err.message).toContain('hidden');
  });

  it('requires S3_ENDPOINT when STORAGE_DRIVER=s3', () => {
    const err = configError({ STORAGE_DRIVER: 's3', S3_ACCESS_KEY: 'access', S3_SECRET_KEY: 'secret' });
    expect(err.message).toMatch(/^Invalid configuration: S3_ENDPOINT/);
    const complete = parseConfig({
      STORAGE_DRIVER: 's3',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_ACCESS_KEY: 'access',
      S3_SECRET_KEY: 'secret',
    });
    expect(complete.STORAGE_DRIVER).toBe('s3');
  });

  it('rejects a DATABASE_URL that is not Postgres', () => {
    const err = configError({ DATABASE_URL: 'mysql://x' });
    expect(err.message).toMatch(/^Invalid configuration: DATABASE_URL/);
    expect(err.message).not.toContain('\n');
  });

  it('auth settings of issue 19: redirect allow-list, grace window, guest retention; no insecure issuers in production', () => {
    const config = parseConfig({ AUTH_REDIRECT_URLS: 'https://app.example.com/cb, myapp://auth/*', AUTH_REFRESH_REUSE_GRACE_SECONDS: '0' });
    expect(config.AUTH_REDIRECT_URLS).toEqual(['https://app.example.com/cb', 'myapp://auth/*']);
    expect(config.AUTH_REFRESH_REUSE_GRACE_SECONDS).toBe(0);
    expect(parseConfig({}).AUTH_REFRESH_REUSE_GRACE_SECONDS).toBe(10);
    expect(parseConfig({}).AUTH_GUEST_RETENTION_HOURS).toBe(720);
    expect(configError({ AUTH_REDIRECT_URLS: 'not a url' }).message).toMatch(/AUTH_REDIRECT_URLS/);
    expect(configError({ AUTH_REFRESH_REUSE_GRACE_SECONDS: '301' }).message).toMatch(/AUTH_REFRESH_REUSE_GRACE_SECONDS/);
    expect(configError({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), AUTH_OIDC_ALLOW_INSECURE: 'true' }).message).toMatch(/AUTH_OIDC_ALLOW_INSECURE/);
  });

  it('treats empty strings as unset, so defaults apply', () => {
    const config = parseConfig({ PORT: '', DATABASE_URL: '', REDIS_URL: '', JWT_SECRET: '', SMTP_SECURE: '' });
    expect(config).toEqual(parseConfig({}));
    // NODE_ENV=production with an empty JWT_SECRET is "unset", not "too short".
    expect(configError({ NODE_ENV: 'production', JWT_SECRET: '' }).message).toMatch(
      /^Invalid configuration: JWT_SECRET is required/,
    );
  });

  it('parses SMTP_SECURE=true to the boolean true', () => {
    expect(parseConfig({ SMTP_SECURE: 'true' }).SMTP_SECURE).toBe(true);
    expect(parseConfig({ SMTP_SECURE: 'false' }).SMTP_SECURE).toBe(false);
  });

  it('never prints the password inside a bad URL', () => {
    const err = configError({ DATABASE_URL: 'mysql://admin:hunter2@db:3306/x' });
    expect(err.message).toMatch(/^Invalid configuration: DATABASE_URL .*"mysql:\/\/\*\*\*@db:3306\/x"/);
    expect(err.message).not.toContain('hunter2');
    expect(configError({ REDIS_URL: 'http://:s3cret@redis:6379' }).message).not.toContain('s3cret');
  });

  it('derives PUBLIC_URL and APP_URL from DOMAIN, an explicit value winning', () => {
    const config = parseConfig({ DOMAIN: 'baas.example.com' });
    expect(config.PUBLIC_URL).toBe('https://baas.example.com');
    expect(config.APP_URL).toBe('https://baas.example.com');
    expect(parseConfig({ DOMAIN: 'baas.example.com', PUBLIC_URL: 'https://api.example.org' }).PUBLIC_URL).toBe('https://api.example.org');
    expect(parseConfig({ DOMAIN: 'baas.example.com', APP_URL: 'https://app.example.org' }).APP_URL).toBe('https://app.example.org');
    for (const bad of ['https://baas.example.com', 'baas.example.com/x', 'baas.example.com:443', '-x.example.com']) {
      expect(configError({ DOMAIN: bad }).message).toMatch(/^Invalid configuration: DOMAIN/);
    }
  });

  it('S3_PUBLIC_SAME_ORIGIN signs presigned URLs for PUBLIC_URL unless S3_PUBLIC_ENDPOINT is set', () => {
    expect(parseConfig({}).S3_PUBLIC_ENDPOINT).toBeUndefined();
    expect(parseConfig({ S3_PUBLIC_SAME_ORIGIN: 'true', DOMAIN: 'baas.example.com' }).S3_PUBLIC_ENDPOINT).toBe('https://baas.example.com');
    expect(parseConfig({ S3_PUBLIC_SAME_ORIGIN: 'true' }).S3_PUBLIC_ENDPOINT).toBe('http://localhost:3000');
    expect(
      parseConfig({ S3_PUBLIC_SAME_ORIGIN: 'true', S3_PUBLIC_ENDPOINT: 'https://files.example.com' }).S3_PUBLIC_ENDPOINT,
    ).toBe('https://files.example.com');
    // A path prefix would change the path every signature covers.
    expect(configError({ S3_PUBLIC_SAME_ORIGIN: 'true', PUBLIC_URL: 'https://example.com/baas' }).message).toMatch(
      /^Invalid configuration: PUBLIC_URL must have no path/,
    );
    expect(parseConfig({ S3_PUBLIC_SAME_ORIGIN: 'true', PUBLIC_URL: 'https://example.com/' }).S3_PUBLIC_ENDPOINT).toBe('https://example.com');
    // The S3 client keeps scheme, host and port only: a path would be dropped, so it is refused.
    expect(configError({ S3_ENDPOINT: 'http://minio:9000/s3' }).message).toMatch(/^Invalid configuration: S3_ENDPOINT must have no path/);
    expect(configError({ S3_PUBLIC_ENDPOINT: 'https://x.example.com/s3' }).message).toMatch(/^Invalid configuration: S3_PUBLIC_ENDPOINT must have no path/);
    expect(parseConfig({ S3_ENDPOINT: 'http://minio:9000/' }).S3_ENDPOINT).toBe('http://minio:9000/');
  });
});
