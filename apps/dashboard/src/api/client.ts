/**
 * The dashboard's only way to the api. Every call the pages make goes through this object,
 * so the transport lives in one file.
 */
import type {
  ApiKey,
  Bucket,
  Collection,
  CollectionInput,
  DeployInput,
  Doc,
  EmailMessage,
  EmailTemplate,
  ErrorDetail,
  FunctionInfo,
  Invocation,
  Page,
  Readiness,
  Run,
  StoredFile,
  TemplatePreview,
  User,
} from './types.js';

/** An error answer of the api, or a network failure (statusCode 0, code NETWORK_ERROR). */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly requestId?: string,
  ) {
    super(message);
  }
}

export type Credentials =
  | { kind: 'key'; apiKey: string }
  | { kind: 'password'; email: string; accessToken: string; refreshToken: string };

export interface ClientOptions {
  url: string;
  credentials?: Credentials;
  /** Called when tokens are refreshed or the session ends (null). */
  onCredentials?: (credentials: Credentials | null) => void;
}

type Query = Record<string, string | number | boolean | undefined | null>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Send without the client's credentials (sign-in). */
  anonymous?: boolean;
  headers?: Record<string, string>;
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

async function toApiError(res: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (body && typeof body === 'object' && 'code' in body && 'message' in body) {
    const b = body as { code: string; message: string; details?: ErrorDetail[]; requestId?: string };
    return new ApiError(res.status, b.code, b.message, Array.isArray(b.details) ? b.details : [], b.requestId);
  }
  return new ApiError(res.status, 'HTTP_' + res.status, `The server answered ${res.status} ${res.statusText}`);
}

export function createClient(options: ClientOptions) {
  const base = options.url.replace(/\/+$/, '');
  let credentials = options.credentials;
  let refreshing: Promise<boolean> | undefined;

  function authHeaders(): Record<string, string> {
    if (!credentials) return {};
    return credentials.kind === 'key' ? { 'x-api-key': credentials.apiKey } : { authorization: `Bearer ${credentials.accessToken}` };
  }

  function setCredentials(next: Credentials | undefined): void {
    credentials = next;
    options.onCredentials?.(next ?? null);
  }

  /** One refresh at a time; false when the session is over. */
  function refresh(): Promise<boolean> {
    if (credentials?.kind !== 'password') return Promise.resolve(false);
    const current = credentials;
    refreshing ??= (async () => {
      try {
        const res = await fetch(`${base}/v1/auth/refresh`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refreshToken: current.refreshToken }),
        });
        if (!res.ok) {
          setCredentials(undefined);
          return false;
        }
        const t = (await res.json()) as { accessToken: string; refreshToken: string };
        setCredentials({ ...current, accessToken: t.accessToken, refreshToken: t.refreshToken });
        return true;
      } catch {
        return false;
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  }

  async function send(method: string, path: string, opts: RequestOptions = {}, retry = true): Promise<Response> {
    const headers: Record<string, string> = { ...(opts.anonymous ? {} : authHeaders()), ...opts.headers };
    let body: BodyInit | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await fetch(`${base}${path}${queryString(opts.query)}`, { method, headers, body });
    } catch {
      throw new ApiError(0, 'NETWORK_ERROR', 'The api cannot be reached. Is it running?');
    }
    if (res.status === 401 && retry && !opts.anonymous && credentials?.kind === 'password' && (await refresh())) {
      return send(method, path, opts, false);
    }
    if (!res.ok) throw await toApiError(res);
    return res;
  }

  async function json<T>(method: string, path: string, opts?: RequestOptions): Promise<T> {
    const res = await send(method, path, opts);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  const enc = encodeURIComponent;

  return {
    get credentials() {
      return credentials;
    },
    auth: {
      /** Signs in; with `requireRole`, a user without that role is signed out again and refused (403 ROLE_REQUIRED). */
      async signInWithPassword(email: string, password: string, opts: { requireRole?: string } = {}): Promise<User> {
        const r = await json<{ user: User; accessToken: string; refreshToken: string }>('POST', '/v1/auth/login', {
          body: { email, password },
          anonymous: true,
        });
        if (opts.requireRole && !r.user.roles.includes(opts.requireRole)) {
          await fetch(`${base}/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${r.accessToken}` } }).catch(() => undefined);
          throw new ApiError(403, 'ROLE_REQUIRED', `This account does not have the ${opts.requireRole} role`);
        }
        setCredentials({ kind: 'password', email: r.user.email, accessToken: r.accessToken, refreshToken: r.refreshToken });
        return r.user;
      },
      /** Uses a service key from now on, once an admin-only call has proved it. */
      async useApiKey(apiKey: string): Promise<void> {
        await json<unknown>('GET', '/v1/admin/api-keys', { anonymous: true, headers: { 'x-api-key': apiKey } });
        setCredentials({ kind: 'key', apiKey });
      },
      async signOut(): Promise<void> {
        const current = credentials;
        setCredentials(undefined);
        if (current?.kind === 'password') {
          await fetch(`${base}/v1/auth/logout`, {
            method: 'POST',
            headers: { authorization: `Bearer ${current.accessToken}` },
          }).catch(() => undefined);
        }
      },
      me: () => json<User>('GET', '/v1/auth/me'),
    },
    admin: {
      users: {
        list: (q: { search?: string; limit?: number; cursor?: string } = {}) => json<Page<User>>('GET', '/v1/admin/users', { query: q }),
        get: (id: string) => json<User>('GET', `/v1/admin/users/${enc(id)}`),
        update: (id: string, patch: { roles?: string[]; disabled?: boolean; emailVerified?: boolean }) =>
          json<User>('PATCH', `/v1/admin/users/${enc(id)}`, { body: patch }),
        revokeSessions: (id: string) => json<{ revoked: number }>('DELETE', `/v1/admin/users/${enc(id)}/sessions`),
        delete: (id: string) => json<void>('DELETE', `/v1/admin/users/${enc(id)}`),
      },
      apiKeys: {
        list: () => json<Page<ApiKey>>('GET', '/v1/admin/api-keys'),
        create: (name: string) => json<ApiKey & { key: string }>('POST', '/v1/admin/api-keys', { body: { name } }),
        revoke: (id: string) => json<void>('DELETE', `/v1/admin/api-keys/${enc(id)}`),
      },
      overview: () => json<Overview>('GET', '/v1/admin/overview'),
    },
    collections: {
      list: () => json<Page<Collection>>('GET', '/v1/collections'),
      get: (name: string) => json<Collection>('GET', `/v1/collections/${enc(name)}`),
      create: (input: CollectionInput) => json<Collection>('POST', '/v1/collections', { body: input }),
      update: (name: string, patch: Partial<Omit<CollectionInput, 'name'>>) =>
        json<Collection>('PATCH', `/v1/collections/${enc(name)}`, { body: patch }),
      delete: (name: string, force = false) => json<void>('DELETE', `/v1/collections/${enc(name)}`, { query: { force } }),
    },
    collection(name: string) {
      const path = `/v1/collections/${enc(name)}/documents`;
      return {
        list: (q: { filter?: string; sort?: string; limit?: number; cursor?: string; count?: boolean } = {}) =>
          json<Page<Doc>>('GET', path, { query: q }),
        get: (id: string) => json<Doc>('GET', `${path}/${enc(id)}`),
        create: (data: Record<string, unknown>) => json<Doc>('POST', path, { body: data }),
        update: (id: string, patch: Record<string, unknown>) => json<Doc>('PATCH', `${path}/${enc(id)}`, { body: patch }),
        replace: (id: string, data: Record<string, unknown>) => json<Doc>('PUT', `${path}/${enc(id)}`, { body: data }),
        delete: (id: string) => json<void>('DELETE', `${path}/${enc(id)}`),
      };
    },
    storage: {
      buckets: {
        list: () => json<Page<Bucket>>('GET', '/v1/storage/buckets'),
        create: (b: { name: string; public?: boolean; maxFileSize?: number | null; allowedMimeTypes?: string[] }) =>
          json<Bucket>('POST', '/v1/storage/buckets', { body: b }),
      },
      list: (bucket: string, q: { prefix?: string; limit?: number; cursor?: string } = {}) =>
        json<Page<StoredFile>>('GET', `/v1/storage/buckets/${enc(bucket)}/files`, { query: q }),
      get: (id: string) => json<StoredFile>('GET', `/v1/storage/files/${enc(id)}`),
      delete: (id: string) => json<void>('DELETE', `/v1/storage/files/${enc(id)}`),
      /** The bytes of a file (first `maxBytes` only, with a Range request, when given). */
      async download(id: string, maxBytes?: number): Promise<Blob> {
        const headers: Record<string, string> = authHeaders();
        if (maxBytes !== undefined) headers['range'] = `bytes=0-${maxBytes - 1}`;
        let res: Response;
        try {
          res = await fetch(`${base}/v1/storage/files/${enc(id)}/content`, { headers });
        } catch {
          throw new ApiError(0, 'NETWORK_ERROR', 'The api cannot be reached. Is it running?');
        }
        if (!res.ok) throw await toApiError(res);
        return res.blob();
      },
      downloadUrl: (id: string) => json<{ url: string; expiresAt: string }>('GET', `/v1/storage/files/${enc(id)}/download-url`),
      /** multipart/form-data upload through XMLHttpRequest, so progress is real. */
      upload(bucket: string, file: Blob, opts: { key?: string; onProgress?: (loaded: number, total: number) => void } = {}) {
        return new Promise<StoredFile>((resolve, reject) => {
          const form = new FormData();
          if (opts.key) form.append('key', opts.key);
          form.append('file', file, file instanceof File ? file.name : 'file');
          const xhr = new XMLHttpRequest();
          xhr.open('POST', `${base}/v1/storage/buckets/${enc(bucket)}/files`);
          for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
          xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
          xhr.onerror = () => reject(new ApiError(0, 'NETWORK_ERROR', 'The upload failed: the api cannot be reached'));
          xhr.onload = () => {
            let body: unknown;
            try {
              body = JSON.parse(xhr.responseText);
            } catch {
              body = undefined;
            }
            if (xhr.status >= 200 && xhr.status < 300) return resolve(body as StoredFile);
            const b = (body ?? {}) as { code?: string; message?: string; details?: ErrorDetail[]; requestId?: string };
            reject(new ApiError(xhr.status, b.code ?? `HTTP_${xhr.status}`, b.message ?? 'The upload failed', b.details ?? [], b.requestId));
          };
          xhr.send(form);
        });
      },
    },
    functions: {
      list: (q: { limit?: number; cursor?: string } = {}) => json<Page<FunctionInfo>>('GET', '/v1/functions', { query: q }),
      get: (name: string) => json<FunctionInfo>('GET', `/v1/functions/${enc(name)}`),
      deploy: (name: string, input: DeployInput) => json<FunctionInfo>('PUT', `/v1/functions/${enc(name)}`, { body: input }),
      delete: (name: string) => json<void>('DELETE', `/v1/functions/${enc(name)}`),
      invoke: (name: string, payload?: unknown) => json<Invocation>('POST', `/v1/functions/${enc(name)}/invoke`, { body: payload ?? {} }),
      runs: (q: { function?: string; status?: string; limit?: number; cursor?: string } = {}) =>
        json<Page<Run>>('GET', '/v1/functions/runs', { query: q }),
      run: (id: string) => json<Run>('GET', `/v1/functions/runs/${enc(id)}`),
      retry: (id: string) => json<Run | Invocation>('POST', `/v1/functions/runs/${enc(id)}/retry`),
    },
    email: {
      messages: (q: { status?: string; to?: string; limit?: number; cursor?: string } = {}) =>
        json<Page<EmailMessage>>('GET', '/v1/email/messages', { query: q }),
      message: (id: string) => json<EmailMessage>('GET', `/v1/email/messages/${enc(id)}`),
      retry: (id: string) => json<EmailMessage>('POST', `/v1/email/messages/${enc(id)}/retry`),
      send: (msg: { to: string | string[]; subject?: string; text?: string; html?: string; template?: string; data?: Record<string, string> }) =>
        json<{ id: string; status: string }>('POST', '/v1/email/send', { body: msg }),
      templates: {
        list: () => json<Page<EmailTemplate>>('GET', '/v1/email/templates'),
        get: (name: string) => json<EmailTemplate>('GET', `/v1/email/templates/${enc(name)}`),
        put: (name: string, t: { subject: string; html: string; text: string }) =>
          json<EmailTemplate>('PUT', `/v1/email/templates/${enc(name)}`, { body: t }),
        delete: (name: string) => json<void>('DELETE', `/v1/email/templates/${enc(name)}`),
        preview: (name: string, body: { data?: Record<string, string>; draft?: { subject: string; html: string; text: string } }) =>
          json<TemplatePreview>('POST', `/v1/email/templates/${enc(name)}/preview`, { body }),
      },
    },
    health: {
      ready: async (): Promise<Readiness> => {
        // 503 still carries the checks.
        let res: Response;
        try {
          res = await fetch(`${base}/v1/health/ready`);
        } catch {
          throw new ApiError(0, 'NETWORK_ERROR', 'The api cannot be reached. Is it running?');
        }
        return (await res.json()) as Readiness;
      },
    },
  };
}

export type Client = ReturnType<typeof createClient>;

/** GET /v1/admin/overview */
export interface Overview {
  generatedAt: string;
  counts: { users: number; collections: number; functions: number; buckets: number; files: number };
  runs: { last24h: Record<string, number>; hourly: { hour: string; succeeded: number; failed: number }[] };
  email: { last24h: Record<string, number> };
  queues: Record<string, { waiting: number; active: number; delayed: number; failed: number }>;
  /** Answered by the api process since it started; the page samples it for a rate. */
  requests: { total: number; errors5xx: number; errors4xx: number };
  recentErrors: { at: string; source: string; message: string; ref?: string }[];
}
