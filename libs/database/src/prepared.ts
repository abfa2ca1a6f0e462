import { createHash } from 'node:crypto';
import { type Compilable, DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import type pg from 'pg';
import type { DB, Db } from './db.js';

/**
 * Hot statements built once with Kysely (typed against the schema like every other query) and
 * run as named prepared statements: Kysely's build + compile (10-40 µs each) is paid once per
 * process, and Postgres's parse + plan (100-200 µs for a join or a CTE, more than their
 * execution: bench/profile-functions.mjs) once per pooled connection instead of per call.
 * For statements run on every function run or every event; anything else stays plain Kysely.
 */

/** A Kysely that only compiles (no connection): statements are built at module load. */
const compiler: Db = new Kysely<DB>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

const ARG = '\u0000prepared-arg:';

/** A statement's arguments while it is built: each stands for the value passed at run time. */
export type ArgsOf<A> = { readonly [K in keyof A]: A[K] };

export interface Prepared<A, R> {
  readonly name: string;
  readonly text: string;
  /** Runs the statement on a pool or a transaction's client; the rows as Postgres returns them. */
  run(on: pg.Pool | pg.PoolClient, args: A): Promise<R[]>;
}

/**
 * Builds a statement once. `build` receives the Kysely to build on and the arguments as
 * placeholders, and must pass them to Kysely as values (as they are: a placeholder inside
 * JSON.stringify or arithmetic would be lost, which is refused here).
 */
export function prepare<A extends object, R>(build: (db: Db, args: ArgsOf<A>) => Compilable<R>): Prepared<A, R> {
  const used = new Set<string>();
  const args = new Proxy({} as ArgsOf<A>, {
    get: (_target, key) => {
      used.add(String(key));
      return `${ARG}${String(key)}`;
    },
  });
  const compiled = build(compiler, args).compile();
  const slots = compiled.parameters.map((p): { key: string } | { value: unknown } =>
    typeof p === 'string' && p.startsWith(ARG) ? { key: p.slice(ARG.length) } : { value: p },
  );
  const bound = new Set(slots.flatMap((s) => ('key' in s ? [s.key] : [])));
  const lost = [...used].filter((k) => !bound.has(k));
  if (lost.length > 0 || compiled.parameters.some((p) => typeof p === 'string' && p.includes(ARG) && !p.startsWith(ARG))) {
    throw new Error(`prepare(): arguments not passed as values: ${lost.join(', ')}`);
  }
  const text = compiled.sql;
  // Postgres keeps 63 bytes of a name; the text decides the name, so equal statements share it.
  const name = `k_${createHash('sha256').update(text).digest('hex').slice(0, 40)}`;
  return {
    name,
    text,
    async run(on, values) {
      const res = await on.query<R & pg.QueryResultRow>({ name, text, values: slots.map((s) => ('key' in s ? values[s.key as keyof A] : s.value)) });
      return res.rows;
    },
  };
}
