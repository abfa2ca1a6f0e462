/** Shapes the dashboard reads from the api (docs/api.md). */

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  count?: number;
}

export interface ErrorDetail {
  path?: string;
  message: string;
  [key: string]: unknown;
}

export interface User {
  id: string;
  email: string;
  emailVerified: boolean;
  roles: string[];
  disabled?: boolean;
  createdAt: string;
  updatedAt?: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  createdBy?: string | null;
  lastUsedAt?: string | null;
  revokedAt?: string | null;
}

export const FIELD_TYPES = ['string', 'number', 'integer', 'boolean', 'date', 'json', 'array', 'reference'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldDef {
  name: string;
  type: FieldType;
  required?: boolean;
  unique?: boolean;
  default?: unknown;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: (string | number)[];
  collection?: string;
  items?: string;
}

export const RULE_NAMES = ['list', 'read', 'create', 'update', 'delete'] as const;
export type RuleName = (typeof RULE_NAMES)[number];

export interface Collection {
  name: string;
  fields: FieldDef[];
  indexes: string[][];
  rules: Record<RuleName, string>;
  createdAt: string;
  updatedAt: string;
}

export interface CollectionInput {
  name: string;
  fields: FieldDef[];
  indexes: string[][];
  rules: Record<RuleName, string>;
}

export interface Acl {
  read: string[];
  write: string[];
}

export type Doc = Record<string, unknown> & {
  id: string;
  createdAt: string;
  updatedAt: string;
  ownerId: string | null;
  acl?: Acl | null;
};

export interface Bucket {
  id: string;
  name: string;
  public: boolean;
  maxFileSize: number | null;
  allowedMimeTypes: string[];
  createdAt: string;
}

export interface StoredFile {
  id: string;
  bucket: string;
  key: string;
  size: number;
  contentType: string;
  ownerId: string | null;
  createdAt: string;
  status: 'pending' | 'ready';
  checksum: string | null;
}

export type Trigger =
  | { type: 'http'; access?: 'public' | 'user' | 'admin' }
  | { type: 'db'; collection: string; events: ('create' | 'update' | 'delete')[] }
  | { type: 'storage'; bucket: string; events: ('upload' | 'delete')[] }
  | { type: 'auth'; events: 'signup'[] }
  | { type: 'schedule'; cron: string; timezone?: string };

export interface FunctionInfo {
  name: string;
  version: number;
  language: string;
  triggers: Trigger[];
  timeoutMs: number;
  memoryMb: number;
  retries: number;
  backoffMs: number;
  concurrency: number;
  secretNames: string[];
  createdAt: string;
  updatedAt: string;
  source?: string;
}

export interface DeployInput {
  source: string;
  language?: 'js' | 'ts';
  triggers?: Trigger[];
  timeoutMs?: number;
  memoryMb?: number;
  retries?: number;
  backoffMs?: number;
  concurrency?: number;
  /** Replaces every secret when given; omitted keeps the current ones. */
  secrets?: Record<string, string>;
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'timed_out' | 'dead';

export interface RunLogLine {
  level: string;
  message: string;
  at: string;
}

export interface Run {
  id: string;
  function: string;
  version: number;
  trigger: string;
  status: RunStatus;
  attempts: number;
  durationMs: number | null;
  logs: RunLogLine[];
  result?: unknown;
  error?: unknown;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  replayOf?: string | null;
}

export interface Invocation {
  runId: string;
  status: RunStatus;
  result?: unknown;
  error?: unknown;
  durationMs: number | null;
}

export interface EmailMessage {
  id: string;
  to: string[];
  subject: string;
  template: string | null;
  status: 'queued' | 'sent' | 'failed';
  attempts: number;
  messageId: string | null;
  response: string | null;
  error: string | null;
  rejected: string[];
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  lastAttemptAt: string | null;
  sentAt: string | null;
  text?: string | null;
  html?: string | null;
}

export interface EmailTemplate {
  name: string;
  subject: string;
  html: string;
  text: string;
  builtIn: boolean;
  overridden: boolean;
  updatedAt: string | null;
}

export interface TemplatePreview {
  name: string;
  subject: string;
  html: string;
  text: string;
  data: Record<string, string>;
  missing: string[];
}

export type CheckStatus = { status: 'up'; latencyMs: number } | { status: 'down'; error: string };

export interface Readiness {
  ready: boolean;
  checks: { postgres: CheckStatus; redis: CheckStatus; storage: CheckStatus };
}
