import { type FormEvent, useState } from 'react';
import { type CollectionInput, FIELD_TYPES, type FieldDef, type FieldType, type IndexEntry, parseRule, type Rule, RULE_NAMES, type RuleName, ruleText } from '../api/types.js';
import { detailsByPath, ErrorMessage } from '../ui.js';

const ITEM_TYPES = ['', 'string', 'number', 'integer', 'boolean', 'date'];

interface FieldRow {
  name: string;
  type: FieldType;
  required: boolean;
  unique: boolean;
  collection: string;
  items: string;
  /** min, max, pattern, enum, default as JSON (the less common settings). */
  extra: string;
}

function toRow(f: FieldDef): FieldRow {
  const { name, type, required, unique, collection, items, ...rest } = f;
  return {
    name,
    type,
    required: required ?? false,
    unique: unique ?? false,
    collection: collection ?? '',
    items: items ?? '',
    extra: Object.keys(rest).length ? JSON.stringify(rest) : '',
  };
}

/** Rows back to field definitions; a bad "extra" JSON is reported against its row. */
function toFields(rows: FieldRow[]): { fields: FieldDef[]; problems: Map<string, string> } {
  const problems = new Map<string, string>();
  const fields = rows.map((r, i) => {
    let extra: Record<string, unknown> = {};
    if (r.extra.trim()) {
      try {
        const parsed = JSON.parse(r.extra) as unknown;
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('must be a JSON object');
        extra = parsed as Record<string, unknown>;
      } catch (e) {
        problems.set(`fields.${i}.extra`, `must be a JSON object like {"min": 1} (${e instanceof Error ? e.message : ''})`);
      }
    }
    const f: FieldDef = { ...extra, name: r.name.trim(), type: r.type };
    if (r.required) f.required = true;
    if (r.unique) f.unique = true;
    if (r.collection.trim()) f.collection = r.collection.trim();
    if (r.items) f.items = r.items as FieldDef['items'];
    return f;
  });
  return { fields, problems };
}

/** `a, b; c` → [["a","b"],["c"]]; an entry written as JSON (`{"fields":[...],"unique":true}`) stays an object. */
export function parseIndexes(text: string): IndexEntry[] {
  return text
    .split(/[;\n]/)
    .map((ix): IndexEntry => {
      const t = ix.trim();
      if (t.startsWith('{')) {
        try {
          return JSON.parse(t) as IndexEntry;
        } catch {
          return [t];
        }
      }
      return t.split(',').map((s) => s.trim()).filter(Boolean);
    })
    .filter((ix) => !Array.isArray(ix) || ix.length > 0);
}

/** The inverse of parseIndexes. */
export function indexesText(indexes: IndexEntry[]): string {
  return indexes.map((ix) => (Array.isArray(ix) ? ix.join(', ') : JSON.stringify(ix))).join('; ');
}

/**
 * Fields, indexes and rules of a collection. The api validates; its `details` (paths like
 * `fields.1.name`) are shown next to the input they are about.
 */
export function SchemaEditor({
  initial,
  isNew,
  error,
  busy,
  onSubmit,
}: {
  initial?: CollectionInput;
  isNew: boolean;
  error: unknown;
  busy: boolean;
  onSubmit: (input: CollectionInput) => void;
}) {
  const [name, setName] = useState(initial?.name ?? '');
  const [rows, setRows] = useState<FieldRow[]>(initial?.fields.map(toRow) ?? [{ name: '', type: 'string', required: false, unique: false, collection: '', items: '', extra: '' }]);
  const [indexes, setIndexes] = useState(indexesText(initial?.indexes ?? []));
  const [rules, setRules] = useState<Record<RuleName, string>>(
    initial
      ? (Object.fromEntries(RULE_NAMES.map((r) => [r, ruleText(initial.rules[r])])) as Record<RuleName, string>)
      : { list: 'public', read: 'public', create: 'authenticated', update: 'owner', delete: 'owner' },
  );
  const [localProblems, setLocalProblems] = useState(new Map<string, string>());
  const problems = new Map([...detailsByPath(error), ...localProblems]);
  const fieldProblem = (i: number) =>
    [...problems.entries()]
      .filter(([p]) => p === `fields.${i}` || p.startsWith(`fields.${i}.`))
      .map(([p, m]) => `${p.split('.').slice(2).join('.') || 'field'} ${m}`)
      .join('; ');

  /** Problems of one rule: at `rules.read` itself or inside its expression (`rules.read.$or.1.status`). */
  const ruleProblem = (r: RuleName) =>
    [...problems.entries()]
      .filter(([p]) => p === `rules.${r}` || p.startsWith(`rules.${r}.`))
      .map(([p, m]) => (p === `rules.${r}` ? m : `${p.slice(`rules.${r}.`.length)} ${m}`))
      .join('; ');

  function update(i: number, patch: Partial<FieldRow>) {
    setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    const { fields, problems: local } = toFields(rows.filter((r) => r.name.trim() || r.extra.trim()));
    setLocalProblems(local);
    if (local.size) return;
    const parsed = Object.fromEntries(RULE_NAMES.map((r) => [r, parseRule(rules[r])])) as Record<RuleName, Rule>;
    onSubmit({ name: name.trim(), fields, indexes: parseIndexes(indexes), rules: parsed });
  }

  return (
    <form className="stack schema" onSubmit={submit} noValidate>
      {isNew && (
        <label>
          Name
          <input name="collection-name" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={problems.has('name')} aria-describedby="name-problem" placeholder="posts" />
          {problems.has('name') && (
            <span className="field-error" id="name-problem">
              {problems.get('name')}
            </span>
          )}
        </label>
      )}
      <fieldset>
        <legend>Fields</legend>
        <div className="fields">
          {rows.map((r, i) => {
            const problem = fieldProblem(i);
            return (
              <div className="field-row" key={i} data-testid={`field-${i}`}>
                <input aria-label={`Field ${i + 1} name`} value={r.name} onChange={(e) => update(i, { name: e.target.value })} placeholder="name" aria-invalid={problem !== ''} />
                <select aria-label={`Field ${i + 1} type`} value={r.type} onChange={(e) => update(i, { type: e.target.value as FieldType })}>
                  {FIELD_TYPES.map((t) => (
                    <option key={t}>{t}</option>
                  ))}
                </select>
                <label className="check">
                  <input type="checkbox" checked={r.required} onChange={(e) => update(i, { required: e.target.checked })} /> required
                </label>
                <label className="check">
                  <input type="checkbox" checked={r.unique} onChange={(e) => update(i, { unique: e.target.checked })} /> unique
                </label>
                {r.type === 'reference' && (
                  <input aria-label={`Field ${i + 1} target collection`} value={r.collection} onChange={(e) => update(i, { collection: e.target.value })} placeholder="collection or users" />
                )}
                {r.type === 'array' && (
                  <select aria-label={`Field ${i + 1} item type`} value={r.items} onChange={(e) => update(i, { items: e.target.value })}>
                    {ITEM_TYPES.map((t) => (
                      <option key={t} value={t}>
                        {t || 'any items'}
                      </option>
                    ))}
                  </select>
                )}
                <input
                  className="extra"
                  aria-label={`Field ${i + 1} options (JSON)`}
                  value={r.extra}
                  onChange={(e) => update(i, { extra: e.target.value })}
                  placeholder='{"min":1,"max":200}'
                />
                <button type="button" className="ghost" aria-label={`Remove field ${i + 1}`} onClick={() => setRows(rows.filter((_, j) => j !== i))}>
                  ✕
                </button>
                {problem && (
                  <span className="field-error" role="alert">
                    {problem}
                  </span>
                )}
              </div>
            );
          })}
        </div>
        <button type="button" onClick={() => setRows([...rows, { name: '', type: 'string', required: false, unique: false, collection: '', items: '', extra: '' }])}>
          + Add field
        </button>
      </fieldset>
      <label>
        Indexes (fields of one index separated by commas, indexes by semicolons)
        <input value={indexes} onChange={(e) => setIndexes(e.target.value)} placeholder="title; ownerId, createdAt" aria-invalid={[...problems.keys()].some((p) => p.startsWith('indexes'))} />
        {[...problems.entries()]
          .filter(([p]) => p.startsWith('indexes'))
          .map(([p, m]) => (
            <span key={p} className="field-error">
              {p}: {m}
            </span>
          ))}
      </label>
      <fieldset>
        <legend>Rules</legend>
        <p className="muted small">public, authenticated, owner, admin or role:&lt;name&gt;</p>
        <div className="rules">
          {RULE_NAMES.map((r) => (
            <label key={r}>
              {r}
              <input value={rules[r]} onChange={(e) => setRules({ ...rules, [r]: e.target.value })} list="rule-options" aria-invalid={ruleProblem(r) !== ''} />
              {ruleProblem(r) && <span className="field-error">{ruleProblem(r)}</span>}
            </label>
          ))}
        </div>
        <datalist id="rule-options">
          <option value="public" />
          <option value="authenticated" />
          <option value="owner" />
          <option value="admin" />
        </datalist>
      </fieldset>
      <ErrorMessage error={error} title="The schema was not saved" />
      <button type="submit" className="primary" disabled={busy}>
        {isNew ? 'Create collection' : 'Save schema'}
      </button>
    </form>
  );
}
