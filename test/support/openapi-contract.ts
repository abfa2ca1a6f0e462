import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv,
) => Ajv;

interface Operation {
  operationId: string;
  responses: Record<string, { $ref?: string; content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
}

interface Route {
  method: string;
  template: string;
  regex: RegExp;
  /** Literal segments first: /v1/functions/runs beats /v1/functions/{name}. */
  specificity: number;
  op: Operation;
  pointer: string;
}

export interface Violation {
  request: string;
  status: number;
  problem: string;
}

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Checks real answers of the api against docs/openapi.json: the status must be one the
 * operation declares (or its 4XX/default error answer), and a JSON body must match the
 * declared schema (ajv, additional properties refused where the document says so).
 * `fetch` wraps a fetch function so every answer a client gets is checked.
 */
export class OpenApiContract {
  readonly violations: Violation[] = [];
  /** operationId → statuses seen. */
  readonly seen = new Map<string, Set<number>>();
  private readonly ajv: Ajv;
  private readonly routes: Route[] = [];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(path = 'docs/openapi.json') {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { paths: Record<string, Record<string, Operation>> };
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ ...doc, $id: 'openapi.json' });
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const regex = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
        const specificity = template.split('/').filter((s) => s && !s.startsWith('{')).length;
        this.routes.push({ method: method.toUpperCase(), template, regex, specificity, op, pointer: `#/paths/${escapePointer(template)}/${method}` });
      }
    }
    this.routes.sort((a, b) => b.specificity - a.specificity);
  }

  private validator(pointer: string): ValidateFunction {
    let v = this.validators.get(pointer);
    if (!v) {
      v = this.ajv.compile({ $ref: `openapi.json${pointer}` });
      this.validators.set(pointer, v);
    }
    return v;
  }

  /** Checks one answer; `body` is the parsed JSON, or undefined for none / not JSON. */
  check(method: string, url: string, status: number, contentType: string | null, body: unknown): void {
    const path = new URL(url, 'http://x').pathname;
    const label = `${method} ${path}`;
    const route = this.routes.find((r) => r.method === method && r.regex.test(path));
    if (!route) {
      this.violations.push({ request: label, status, problem: 'no operation in the document' });
      return;
    }
    const statuses = this.seen.get(route.op.operationId) ?? new Set<number>();
    statuses.add(status);
    this.seen.set(route.op.operationId, statuses);
    let key = String(status);
    if (!route.op.responses[key]) key = status >= 400 && status < 500 && route.op.responses['4XX'] ? '4XX' : 'default';
    const response = route.op.responses[key];
    if (!response || (key === 'default' && status < 400)) {
      this.violations.push({ request: label, status, problem: `status ${status} is not declared` });
      return;
    }
    const json = contentType?.includes('application/json');
    const declaresJson = response.$ref !== undefined || response.content?.['application/json'] !== undefined;
    if (json && !declaresJson) {
      this.violations.push({ request: label, status, problem: 'answered JSON where the document declares no JSON body' });
      return;
    }
    if (!json || method === 'HEAD') return;
    const pointer =
      response.$ref !== undefined
        ? `${response.$ref}/content/application~1json/schema`
        : `${route.pointer}/responses/${key}/content/application~1json/schema`;
    const validate = this.validator(pointer);
    if (!validate(body)) {
      this.violations.push({ request: label, status, problem: this.ajv.errorsText(validate.errors, { dataVar: 'body' }) });
    }
  }

  /** A fetch that checks every answer (the body is read from a clone, so streams still work). */
  fetch(inner: typeof fetch = globalThis.fetch): typeof fetch {
    return async (input, init) => {
      const response = await inner(input, init);
      const method = (init?.method ?? 'GET').toUpperCase();
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      // Presigned URLs of an S3 emulator are not the api.
      if (!new URL(url).pathname.startsWith('/v1/')) return response;
      const type = response.headers.get('content-type');
      let body: unknown;
      if (type?.includes('application/json')) {
        const text = await response.clone().text();
        body = text ? JSON.parse(text) : undefined;
      }
      this.check(method, url, response.status, type, body);
      return response;
    };
  }
}
