import { enc, type Http } from './http.js';
import type { BatchResult, Doc, Page, SystemFields } from './types.js';

/** Conditions on one field, in the api's filter language. */
export interface Condition<V> {
  $eq?: V | null;
  $ne?: V | null;
  $gt?: V;
  $gte?: V;
  $lt?: V;
  $lte?: V;
  $in?: V[];
  $nin?: V[];
  $exists?: boolean;
  /** Strings: contains the text. Arrays: contains the element(s). */
  $contains?: V extends readonly (infer E)[] ? E | E[] : V;
  $startsWith?: V extends string ? string : never;
  /** Strings, ignoring case and accents: equal / contains / starts with. */
  $ieq?: V extends string ? string : never;
  $icontains?: V extends string ? string : never;
  $istartsWith?: V extends string ? string : never;
}

type FieldFilter<T> = { [K in keyof T]?: T[K] | null | Condition<T[K]> };

/**
 * A filter over documents with fields `T`: `{ age: { $gte: 18 }, $or: [{ role: 'a' }, { role: 'b' }] }`.
 * Dot paths into nested objects (`'address.city'`) are accepted too.
 */
export type Filter<T> = FieldFilter<T & SystemFields> & {
  $and?: Filter<T>[];
  $or?: Filter<T>[];
  $not?: Filter<T>;
  /** Full-text search over the collection's search index (web-search syntax); ranked with sort `-$rank`. */
  $search?: string;
} & { [path: `${string}.${string}`]: unknown };

type FieldName<T> = Extract<keyof (T & SystemFields), string>;
/** Sort keys: a field name, `-` in front for descending. */
export type SortKey<T> = FieldName<T> | `-${FieldName<T>}` | '$rank' | '-$rank';

export interface ReadOptions<T> {
  /** Only these fields (id and version always come back). */
  fields?: (FieldName<T> | (string & {}))[];
  /** Reference fields to replace by the documents they point to. */
  expand?: string[];
}

export interface ListOptions<T> extends ReadOptions<T> {
  filter?: Filter<T>;
  sort?: SortKey<T>[] | SortKey<T>;
  /** 1-500, default 50. */
  limit?: number;
  cursor?: string | null;
  /** Also count every matching document (a second query). */
  count?: boolean;
  signal?: AbortSignal;
}

export interface WriteOptions {
  /** The version the document must still have (If-Match); else 412 PRECONDITION_FAILED. */
  ifMatch?: number;
}

function listQuery<T>(options: ListOptions<T>): Record<string, string | number | boolean | undefined> {
  const sort = options.sort === undefined ? undefined : ([] as string[]).concat(options.sort).join(',');
  return {
    filter: options.filter ? JSON.stringify(options.filter) : undefined,
    sort,
    limit: options.limit,
    cursor: options.cursor ?? undefined,
    count: options.count ? 'true' : undefined,
    fields: options.fields?.join(','),
    expand: options.expand?.join(','),
  };
}

const ifMatch = (options?: WriteOptions): Record<string, string> =>
  options?.ifMatch !== undefined ? { 'if-match': `"${options.ifMatch}"` } : {};

/** The documents of one collection, typed by the app: `client.collection<Post>('posts')`. */
export class CollectionRef<T extends object = Record<string, unknown>> {
  private readonly base: string;

  constructor(
    private readonly http: Http,
    readonly name: string,
  ) {
    this.base = `/v1/collections/${enc(name)}/documents`;
  }

  /** Creates a document; the caller becomes its owner. */
  /** Creates a document; `id` (a UUID) lets the client choose its id (409 CONFLICT when taken). */
  create(data: Partial<T> & { acl?: SystemFields['acl']; id?: string }): Promise<Doc<T>> {
    return this.http.json<Doc<T>>({ method: 'POST', path: this.base, body: data });
  }

  /** One document (404 DOCUMENT_NOT_FOUND also when the caller may not read it). */
  get(id: string, options: ReadOptions<T> = {}): Promise<Doc<T>> {
    return this.http.json<Doc<T>>({
      method: 'GET',
      path: `${this.base}/${enc(id)}`,
      query: { fields: options.fields?.join(','), expand: options.expand?.join(',') },
    });
  }

  /** One page of documents. */
  list(options: ListOptions<T> = {}): Promise<Page<Doc<T>>> {
    return this.http.json<Page<Doc<T>>>({ method: 'GET', path: this.base, query: listQuery(options), signal: options.signal });
  }

  /** Every matching document, page after page: `for await (const post of posts.iterate({ filter })) ...`. */
  async *iterate(options: Omit<ListOptions<T>, 'cursor' | 'count'> = {}): AsyncGenerator<Doc<T>, void, undefined> {
    for await (const page of this.pages(options)) yield* page.items;
  }

  /** Every page of the list. */
  async *pages(options: Omit<ListOptions<T>, 'cursor'> = {}): AsyncGenerator<Page<Doc<T>>, void, undefined> {
    let cursor: string | null = null;
    do {
      const page: Page<Doc<T>> = await this.list({ ...options, cursor });
      yield page;
      cursor = page.nextCursor;
    } while (cursor);
  }

  /** How many documents match (that the caller may read). */
  async count(filter?: Filter<T>): Promise<number> {
    const page = await this.list({ filter, limit: 1, count: true, fields: ['id'] });
    return page.count ?? 0;
  }

  /** Changes the given fields (null removes one). */
  update(id: string, patch: Partial<{ [K in keyof T]: T[K] | null }> & { acl?: SystemFields['acl'] }, options?: WriteOptions): Promise<Doc<T>> {
    return this.http.json<Doc<T>>({ method: 'PATCH', path: `${this.base}/${enc(id)}`, body: patch, headers: ifMatch(options) });
  }

  /** Replaces every field of the document, or creates it with this id when there is none (upsert, if the create rule allows). */
  replace(id: string, data: T & { acl?: SystemFields['acl'] }, options?: WriteOptions): Promise<Doc<T>> {
    return this.http.json<Doc<T>>({ method: 'PUT', path: `${this.base}/${enc(id)}`, body: data, headers: ifMatch(options) });
  }

  async delete(id: string, options?: WriteOptions): Promise<void> {
    await this.http.json({ method: 'DELETE', path: `${this.base}/${enc(id)}`, headers: ifMatch(options) });
  }
}

/** One operation of a batch (`ifMatch`: the expected version). */
export type BatchOperation =
  | { op: 'create'; collection: string; data: Record<string, unknown> }
  | { op: 'get'; collection: string; id: string }
  | { op: 'replace'; collection: string; id: string; data: Record<string, unknown>; ifMatch?: number }
  | { op: 'update'; collection: string; id: string; data: Record<string, unknown>; ifMatch?: number }
  | { op: 'delete'; collection: string; id: string; ifMatch?: number };

/** Runs up to 100 operations; with `transaction: true` all apply or none (then it throws). */
export function runBatch(http: Http, operations: BatchOperation[], options: { transaction?: boolean } = {}): Promise<BatchResult> {
  return http.json<BatchResult>({ method: 'POST', path: '/v1/batch', body: { transaction: options.transaction ?? false, operations } });
}
