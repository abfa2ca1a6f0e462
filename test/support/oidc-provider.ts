import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, type JWK, jwtVerify } from 'jose';
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

  /**
   * Clients that authenticate as Apple's do: client_secret is an ES256 JWT (iss team id, sub
   * client id, aud https://appleid.apple.com) signed with the team's key. The token endpoint
   * verifies it with `publicKey`, then lets oidc-provider see the registered secret.
   */
  readonly appleClients = new Map<string, { publicKey: KeyObject; teamId: string; secret: string }>();

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
      if (req.method === 'POST' && req.url?.startsWith('/token') && this.appleClients.size) {
        void this.appleToken(req).then(
          () => handle(req, res),
          () => {
            res.statusCode = 401;
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify({ error: 'invalid_client' }));
          },
        );
        return;
      }
      handle(req, res);
    });
    this.server = server;
    return this.issuer;
  }

  /** Reads the token request; for an Apple-style client, checks its JWT secret (throws when bad). */
  private async appleToken(req: IncomingMessage & { body?: Record<string, string> }): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
    const apple = body.client_id ? this.appleClients.get(body.client_id) : undefined;
    if (apple) {
      await jwtVerify(body.client_secret ?? '', apple.publicKey, { issuer: apple.teamId, subject: body.client_id, audience: 'https://appleid.apple.com', algorithms: ['ES256'] });
      body.client_secret = apple.secret;
    }
    // oidc-provider takes an already read body from req.body.
    req.body = body;
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
