import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, type JWK } from 'jose';
import Provider, { type AccountClaims, type KoaContextLike } from 'oidc-provider';

export interface TestAccount {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}

/**
 * A real OpenID Connect provider (npm `oidc-provider`) on 127.0.0.1 with an ephemeral port,
 * for the sign-in tests. Whoever reaches its login step is signed in as `nextAccount` (set it
 * before starting a flow); consent is given automatically. Its signing key is exported too,
 * so tests can mint ID tokens with chosen claims that verify against its real JWKS.
 */
export class TestOidcProvider {
  nextAccount: TestAccount = { sub: 'nobody' };
  issuer = '';
  readonly signingJwk: JWK & { kid: string };
  private readonly accounts = new Map<string, TestAccount>();
  private server?: Server;
  private readonly privateJwk: JWK;

  constructor() {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateJwk = privateKey.export({ format: 'jwk' });
    this.signingJwk = { ...this.privateJwk, kid: 'test-key', alg: 'RS256', use: 'sig' };
  }

  async start(clients: { client_id: string; client_secret: string; redirect_uris: string[] }[]): Promise<string> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const provider = new Provider(this.issuer, {
      clients: clients.map((c) => ({ ...c, grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_post' })),
      jwks: { keys: [this.signingJwk] },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      cookies: { keys: ['test-cookie-key-0123456789'] },
      pkce: { required: () => true },
      features: { devInteractions: { enabled: false } },
      findAccount: (_ctx: unknown, sub: string) => {
        const account = this.accounts.get(sub);
        return account ? { accountId: sub, claims: (): AccountClaims => ({ ...account }) } : undefined;
      },
      // Consent is implied: every requested scope is granted.
      loadExistingGrant: async (ctx: KoaContextLike) => {
        const grant = new provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
        grant.addOIDCScope('openid email profile');
        await grant.save();
        return grant;
      },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      // Scope claims (email, name) in the ID token itself, as Google, Apple and Microsoft do.
      conformIdTokenClaims: false,
      ttl: { AuthorizationCode: 60, Session: 600, Interaction: 600, Grant: 600, IdToken: 600, AccessToken: 600 },
    });
    const handle = provider.callback();
    server.on('request', (req, res) => {
      if (req.url?.startsWith('/interaction/')) {
        const account = this.nextAccount;
        this.accounts.set(account.sub, account);
        provider
          .interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false })
          .catch(() => {
            res.statusCode = 400;
            res.end('interaction failed');
          });
        return;
      }
      handle(req, res);
    });
    this.server = server;
    return this.issuer;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** The private key, to sign ID tokens the provider's JWKS verifies. */
  get privateKey(): JWK {
    return { ...this.privateJwk, kid: 'test-key', alg: 'RS256' };
  }
}

export { exportJWK };
