import { FunctionsClient } from './functions.js';
import { enc, type Http } from './http.js';
import { AdminTransfer } from './transfer.js';
import type { operations } from './generated/api.js';
import type {
  AdminOverview,
  AdminUser,
  ApiKey,
  AuthProvider,
  ApiKeyCreated,
  Bucket,
  Collection,
  EmailMessage,
  EmailMessageSummary,
  EmailPreview,
  EmailQueued,
  EmailTemplate,
  FunctionInfo,
  FunctionUsage,
  FunctionVersion,
  Page,
  Replay,
  SessionsRevoked,
} from './types.js';

/** The JSON request body of an operation of the api, by operationId. */
type BodyOf<Op extends keyof operations> = operations[Op] extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

export type CreateCollectionInput = BodyOf<'collectionsCreate'>;
export type UpdateCollectionInput = BodyOf<'collectionsUpdate'>;
export type CreateBucketInput = BodyOf<'storageCreateBucket'>;
export type DeployFunctionInput = BodyOf<'functionsDeploy'>;
export type PatchFunctionInput = BodyOf<'functionsPatch'>;
export type SendEmailInput = BodyOf<'emailSend'>;
export type EmailTemplateInput = BodyOf<'emailPutTemplate'>;
export type UpdateUserInput = BodyOf<'adminUpdateUser'>;
export type CreateUserInput = BodyOf<'adminCreateUser'>;
export type AuthProviderInput = BodyOf<'authProvidersPut'>;

/**
 * What admins and servers do: users, API keys, collection definitions, buckets, function
 * deploys and email. Needs a client made with a service key, or signed in as an admin.
 */
export class AdminClient {
  readonly users: AdminUsers;
  readonly apiKeys: AdminApiKeys;
  readonly authProviders: AdminAuthProviders;
  readonly collections: AdminCollections;
  readonly buckets: AdminBuckets;
  readonly functions: AdminFunctions;
  readonly email: AdminEmail;
  /** Export and import of users, documents and files with their ids (`selfbaas export` / `import`). */
  readonly transfer: AdminTransfer;

  constructor(private readonly http: Http) {
    this.users = new AdminUsers(http);
    this.apiKeys = new AdminApiKeys(http);
    this.authProviders = new AdminAuthProviders(http);
    this.collections = new AdminCollections(http);
    this.buckets = new AdminBuckets(http);
    this.functions = new AdminFunctions(http);
    this.email = new AdminEmail(http);
    this.transfer = new AdminTransfer(http);
  }

  /** What the dashboard's first page shows: readiness, counts, 24 h of runs and emails, queue depth, recent failures. */
  overview(): Promise<AdminOverview> {
    return this.http.json({ method: 'GET', path: '/v1/admin/overview' });
  }
}

class AdminUsers {
  constructor(private readonly http: Http) {}
  list(query: { search?: string; limit?: number; cursor?: string | null } = {}): Promise<Page<AdminUser>> {
    return this.http.json({ method: 'GET', path: '/v1/admin/users', query: { ...query, cursor: query.cursor ?? undefined } });
  }
  get(id: string): Promise<AdminUser> {
    return this.http.json({ method: 'GET', path: `/v1/admin/users/${enc(id)}` });
  }
  /** Creates a user (no session, no email; auth triggers run as for a signup). Without a password they sign in by magic link or reset. */
  create(user: CreateUserInput): Promise<AdminUser> {
    return this.http.json({ method: 'POST', path: '/v1/admin/users', body: user });
  }
  /** Roles, disabled, emailVerified. */
  update(id: string, changes: UpdateUserInput): Promise<AdminUser> {
    return this.http.json({ method: 'PATCH', path: `/v1/admin/users/${enc(id)}`, body: changes });
  }
  /** Ends every session of the user (refresh tokens stop working; access tokens run out within their lifetime). */
  revokeSessions(id: string): Promise<SessionsRevoked> {
    return this.http.json({ method: 'DELETE', path: `/v1/admin/users/${enc(id)}/sessions` });
  }
  async delete(id: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: `/v1/admin/users/${enc(id)}` });
  }
  /** Removes the user's second factor and recovery codes (a lost device). */
  async resetMfa(id: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: `/v1/admin/users/${enc(id)}/mfa` });
  }
}

/** Sign-in providers (OAuth 2.0 / OpenID Connect); client secrets are write-only. */
class AdminAuthProviders {
  constructor(private readonly http: Http) {}
  async list(): Promise<AuthProvider[]> {
    return (await this.http.json<Page<AuthProvider>>({ method: 'GET', path: '/v1/admin/auth-providers' })).items;
  }
  /** Creates or replaces the provider `id`; leave clientSecret out to keep the stored one. */
  put(id: string, settings: AuthProviderInput): Promise<AuthProvider> {
    return this.http.json({ method: 'PUT', path: `/v1/admin/auth-providers/${enc(id)}`, body: settings });
  }
  async delete(id: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: `/v1/admin/auth-providers/${enc(id)}` });
  }
}

class AdminApiKeys {
  constructor(private readonly http: Http) {}
  /**
   * The secret `key` is in this answer only. `scopes` (default: full service access) limit the
   * key to areas and/or read-only; after `expiresAt` (ISO date-time) it is refused.
   */
  create(name: string, options: { scopes?: ('collections' | 'storage' | 'functions' | 'read-only')[]; expiresAt?: string } = {}): Promise<ApiKeyCreated> {
    return this.http.json({ method: 'POST', path: '/v1/admin/api-keys', body: { name, ...options } });
  }
  async list(): Promise<ApiKey[]> {
    return (await this.http.json<Page<ApiKey>>({ method: 'GET', path: '/v1/admin/api-keys' })).items;
  }
  async revoke(id: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: `/v1/admin/api-keys/${enc(id)}` });
  }
}

class AdminCollections {
  constructor(private readonly http: Http) {}
  create(definition: CreateCollectionInput): Promise<Collection> {
    return this.http.json({ method: 'POST', path: '/v1/collections', body: definition });
  }
  async list(): Promise<Collection[]> {
    return (await this.http.json<Page<Collection>>({ method: 'GET', path: '/v1/collections' })).items;
  }
  get(name: string): Promise<Collection> {
    return this.http.json({ method: 'GET', path: `/v1/collections/${enc(name)}` });
  }
  update(name: string, changes: UpdateCollectionInput): Promise<Collection> {
    return this.http.json({ method: 'PATCH', path: `/v1/collections/${enc(name)}`, body: changes });
  }
  /** `force`: also when it still has documents. */
  async delete(name: string, options: { force?: boolean } = {}): Promise<void> {
    await this.http.json({ method: 'DELETE', path: `/v1/collections/${enc(name)}`, query: { force: options.force ? 'true' : undefined } });
  }
}

class AdminBuckets {
  constructor(private readonly http: Http) {}
  create(bucket: CreateBucketInput): Promise<Bucket> {
    return this.http.json({ method: 'POST', path: '/v1/storage/buckets', body: bucket });
  }
  async list(): Promise<Bucket[]> {
    return (await this.http.json<Page<Bucket>>({ method: 'GET', path: '/v1/storage/buckets' })).items;
  }
}

class AdminFunctions extends FunctionsClient {
  /** Deploys a new version; `created` tells whether the function is new (201) or updated (200). */
  async deploy(name: string, definition: DeployFunctionInput): Promise<FunctionInfo & { created: boolean }> {
    const response = await this.http.send({ method: 'PUT', path: `/v1/functions/${enc(name)}`, body: definition });
    return { ...((await response.json()) as FunctionInfo), created: response.status === 201 };
  }
  /** Changes settings (triggers, limits, secrets) and keeps the code: a new version. */
  patch(name: string, settings: PatchFunctionInput): Promise<FunctionInfo> {
    return this.http.json({ method: 'PATCH', path: `/v1/functions/${enc(name)}`, body: settings });
  }
  /** Metering per UTC day (attempts, cold starts, wall and CPU ms, memory, GB-seconds); default the last 30 days. */
  usage(name: string, range: { from?: string; to?: string } = {}): Promise<FunctionUsage> {
    return this.http.json({ method: 'GET', path: `/v1/functions/${enc(name)}/usage`, query: range });
  }
  /** Makes an earlier version's code and settings current again (as a new version; secrets stay). */
  rollback(name: string, version: number): Promise<FunctionInfo> {
    return this.http.json({ method: 'POST', path: `/v1/functions/${enc(name)}/rollback`, body: { version } });
  }
  list(query: { limit?: number; cursor?: string | null } = {}): Promise<Page<FunctionInfo>> {
    return this.http.json({ method: 'GET', path: '/v1/functions', query: { ...query, cursor: query.cursor ?? undefined } });
  }
  /** With its current source (never its secrets). */
  get(name: string): Promise<FunctionInfo> {
    return this.http.json({ method: 'GET', path: `/v1/functions/${enc(name)}` });
  }
  async delete(name: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: `/v1/functions/${enc(name)}` });
  }
  async versions(name: string): Promise<FunctionVersion[]> {
    return (await this.http.json<Page<FunctionVersion>>({ method: 'GET', path: `/v1/functions/${enc(name)}/versions` })).items;
  }
  /** Replays a dead, failed or timed-out run with the same event (a new run). */
  retryRun(id: string): Promise<Replay> {
    return this.http.json({ method: 'POST', path: `/v1/functions/runs/${enc(id)}/retry` });
  }
}

class AdminEmail {
  readonly templates: AdminEmailTemplates;
  constructor(private readonly http: Http) {
    this.templates = new AdminEmailTemplates(http);
  }
  /** Queues an email: `{ to, subject, text?, html? }` or `{ to, template, data }`. */
  send(email: SendEmailInput): Promise<EmailQueued> {
    return this.http.json({ method: 'POST', path: '/v1/email/send', body: email });
  }
  messages(query: { status?: 'queued' | 'sent' | 'failed'; to?: string; limit?: number; cursor?: string | null } = {}): Promise<Page<EmailMessageSummary>> {
    return this.http.json({ method: 'GET', path: '/v1/email/messages', query: { ...query, cursor: query.cursor ?? undefined } });
  }
  message(id: string): Promise<EmailMessage> {
    return this.http.json({ method: 'GET', path: `/v1/email/messages/${enc(id)}` });
  }
  retry(id: string): Promise<EmailMessage> {
    return this.http.json({ method: 'POST', path: `/v1/email/messages/${enc(id)}/retry` });
  }
}

class AdminEmailTemplates {
  constructor(private readonly http: Http) {}
  async list(): Promise<EmailTemplate[]> {
    return (await this.http.json<Page<EmailTemplate>>({ method: 'GET', path: '/v1/email/templates' })).items;
  }
  get(name: string): Promise<EmailTemplate> {
    return this.http.json({ method: 'GET', path: `/v1/email/templates/${enc(name)}` });
  }
  put(name: string, template: EmailTemplateInput): Promise<EmailTemplate> {
    return this.http.json({ method: 'PUT', path: `/v1/email/templates/${enc(name)}`, body: template });
  }
  async delete(name: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: `/v1/email/templates/${enc(name)}` });
  }
  preview(name: string, input: { data?: Record<string, string>; draft?: { subject: string; html: string; text: string } } = {}): Promise<EmailPreview> {
    return this.http.json({ method: 'POST', path: `/v1/email/templates/${enc(name)}/preview`, body: input });
  }
}
