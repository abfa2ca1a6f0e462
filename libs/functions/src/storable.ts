/**
 * Values a run produced (result, error, logs) made storable in Postgres `jsonb`, which
 * refuses U+0000 and lone surrogates in strings and keys, and nesting deeper than its stack
 * allows. Such characters become U+FFFD; anything nested deeper than STORABLE_MAX_DEPTH is
 * replaced by a marker string. Everything else is kept as it is, so storing a run's outcome
 * never fails on its content (docs/functions.md, Runs).
 */
export const STORABLE_MAX_DEPTH = 200;
export const TOO_DEEP = `[nested deeper than ${STORABLE_MAX_DEPTH} levels]`;

// eslint-disable-next-line no-control-regex -- U+0000 is exactly what is looked for
const NUL = /\u0000/g;

export function storableString(s: string): string {
  const wellFormed = s.isWellFormed() ? s : s.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replace(NUL, '\uFFFD') : wellFormed;
}

export function storableJson(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return storableString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= STORABLE_MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((v: unknown) => storableJson(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // defineProperty: a key named __proto__ stays a key
    Object.defineProperty(out, storableString(k), { value: storableJson(v, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
