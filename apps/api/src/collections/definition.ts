import { z } from 'zod';
import { FORBIDDEN_KEYS, safeJsonObject, safeJsonValue } from '../common/safe-json.js';

/** Names of fields and of each segment of a filter path (docs/data.md, "Collections"). */
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** Collection names become table names ("data"."<name>"), so they are short identifiers. */
export const COLLECTION_NAME = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
/** `reference` fields may point at the platform's users with this target. */
export const USERS_TARGET = 'users';

/** System fields of every document: set by the server, never declared as fields. */
export const SYSTEM_FIELDS = ['id', 'createdAt', 'updatedAt', 'ownerId', 'acl', 'version'] as const;
export type SystemField = (typeof SYSTEM_FIELDS)[number];
const SYSTEM_FIELD_SET: ReadonlySet<string> = new Set(SYSTEM_FIELDS);
export function isSystemField(name: string): name is SystemField {
  return SYSTEM_FIELD_SET.has(name);
}

export const FIELD_TYPES = ['string', 'number', 'integer', 'boolean', 'date', 'json', 'array', 'reference'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];
export const ITEM_TYPES = ['string', 'number', 'integer', 'boolean', 'date'] as const;
export type ItemType = (typeof ITEM_TYPES)[number];
/** Field types with a single comparable value: these can be sorted, compared, indexed in a btree, unique. */
export const SCALAR_TYPES: ReadonlySet<FieldType> = new Set(['string', 'number', 'integer', 'boolean', 'date', 'reference']);

export const RULE_NAMES = ['list', 'read', 'create', 'update', 'delete'] as const;
export type RuleName = (typeof RULE_NAMES)[number];
/** The one-word rules: `public | authenticated | owner | admin | role:<name>`. */
export type RuleShorthand = 'public' | 'authenticated' | 'owner' | 'admin' | `role:${string}`;
/** A filter-language expression over the document, the caller (`@auth.*`), the request and, for writes, the data (`@data.*`). */
export type RuleExpression = Record<string, unknown>;
export type RuleItem = RuleShorthand | RuleExpression;
/** A shorthand, an expression, or a list of them that allows what any one of them allows. */
export type Rule = RuleItem | RuleItem[];
export type Rules = Record<RuleName, Rule>;

export const LIMITS = {
  fields: 100,
  indexes: 20,
  fieldsPerIndex: 5,
  enumValues: 100,
  patternLength: 256,
} as const;

export interface FieldDef {
  name: string;
  type: FieldType;
  required?: boolean;
  unique?: boolean;
  default?: unknown;
  /** string: shortest length; number/integer: smallest value; array: fewest items. */
  min?: number;
  /** string: longest length; number/integer: largest value; array: most items. */
  max?: number;
  /** string: a regular expression the whole value must match. */
  pattern?: string;
  /** string/number/integer: the allowed values. */
  enum?: (string | number)[];
  /** reference: the target collection, or `users`. */
  collection?: string;
  /** array: the type of every item (any JSON value when absent). */
  items?: ItemType;
  /** reference to a collection: what deleting the referenced document does to this one. */
  onDelete?: OnDelete;
}

/** `cascade` deletes the referencing documents, `setNull` removes the reference from them, `restrict` refuses the delete (409). */
export const ON_DELETE = ['cascade', 'setNull', 'restrict'] as const;
export type OnDelete = (typeof ON_DELETE)[number];

/** Text search configurations a search index may use (Postgres regconfig names). */
export const SEARCH_LANGUAGES = ['simple', 'english', 'french', 'german', 'spanish', 'italian', 'portuguese', 'dutch', 'danish', 'finnish', 'norwegian', 'swedish', 'russian'] as const;
export type SearchLanguage = (typeof SEARCH_LANGUAGES)[number];

/**
 * An index as an object: compound (`fields`), unique, partial (`where`, a filter without
 * variables: uniqueness among the documents it matches), or full-text (`search`: string
 * fields, one such index per collection, serving `$search`).
 */
export interface IndexDef {
  fields: string[];
  unique?: boolean;
  where?: Record<string, unknown>;
  search?: boolean;
  language?: SearchLanguage;
}
/** `["a", "b"]` (a plain index) or an IndexDef. */
export type IndexEntry = string[] | IndexDef;

export function indexFields(entry: IndexEntry): string[] {
  return Array.isArray(entry) ? entry : entry.fields;
}

/** The collection's full-text index, if it declares one. */
export function searchIndexOf(def: { indexes?: IndexEntry[] }): IndexDef | undefined {
  return def.indexes?.find((e): e is IndexDef => !Array.isArray(e) && e.search === true);
}

/** The fields of the collections a definition's reference fields point at (rules may read them: `team.members`). */
export type RelatedDefs = Record<string, Pick<CollectionDef, 'fields'>>;

export interface CollectionDef {
  name: string;
  fields: FieldDef[];
  indexes: IndexEntry[];
  /** Filled in when loaded for documents (CollectionsService.definition), not stored. */
  related?: RelatedDefs;
  rules: Rules;
  createdAt: Date;
  updatedAt: Date;
}

const fieldName = z
  .string()
  .regex(FIELD_NAME, 'must start with a letter or _ and contain only letters, digits and _ (at most 63)')
  .refine((n) => !FORBIDDEN_KEYS.has(n), 'is not allowed as a field name')
  .refine((n) => !isSystemField(n), 'is a system field');

export const collectionName = z
  .string()
  .regex(COLLECTION_NAME, 'must start with a letter and contain only letters, digits and _ (at most 48)');

export const RULE_LIMITS = {
  /** Items of a list rule (`["owner", "role:moderator"]`). */
  items: 10,
  /** Characters of one rule as JSON. */
  chars: 8192,
} as const;

const SHORTHAND = /^(?:public|authenticated|owner|admin|role:[A-Za-z0-9_-]{1,64})$/;
const shorthandSchema = z.string().regex(SHORTHAND, 'must be public, authenticated, owner, admin, role:<name> or a filter expression');
const expressionSchema = safeJsonObject.refine((e) => JSON.stringify(e).length <= RULE_LIMITS.chars, `must be at most ${RULE_LIMITS.chars} characters as JSON`);
const ruleItemSchema = z.union([shorthandSchema, expressionSchema]);

/** Shapes only; expressions are checked against the collection's fields by ruleIssues() (rules.ts) when saved. */
export const ruleSchema = z
  .union([ruleItemSchema, z.array(ruleItemSchema).min(1).max(RULE_LIMITS.items)])
  .meta({
    description:
      'public | authenticated | owner | admin | role:<name>, a filter expression such as {"$or":[{"public":true},{"ownerId":"@auth.id"}]}, or a list of these (any one allows)',
  }) as z.ZodType<Rule>;

export const rulesSchema = z.strictObject({
  list: ruleSchema.default('admin'),
  read: ruleSchema.default('admin'),
  create: ruleSchema.default('admin'),
  update: ruleSchema.default('admin'),
  delete: ruleSchema.default('admin'),
});

/** A catastrophic-backtracking shape: a quantified group that itself contains a quantifier. */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d+,?\d*\})/;

export const fieldSchema = z
  .strictObject({
    name: fieldName,
    type: z.enum(FIELD_TYPES),
    required: z.boolean().optional(),
    unique: z.boolean().optional(),
    default: safeJsonValue.optional(),
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
    pattern: z
      .string()
      .min(1)
      .max(LIMITS.patternLength)
      .refine((p) => {
        try {
          new RegExp(p, 'u');
          return true;
        } catch {
          return false;
        }
      }, 'must be a valid regular expression')
      .refine((p) => !NESTED_QUANTIFIER.test(p), 'must not nest quantifiers (catastrophic backtracking)')
      .optional(),
    enum: z
      .array(z.union([z.string().max(1024), z.number().finite()]))
      .min(1)
      .max(LIMITS.enumValues)
      .optional(),
    collection: collectionName.optional(),
    items: z.enum(ITEM_TYPES).optional(),
    onDelete: z.enum(ON_DELETE).optional(),
  })
  .superRefine((f, ctx) => {
    const bad = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (f.onDelete !== undefined && (f.type !== 'reference' || f.collection === USERS_TARGET)) bad('onDelete', 'applies to references to collections only');
    if (f.onDelete === 'setNull' && f.required) bad('onDelete', 'setNull cannot apply to a required field');
    if (f.type === 'reference' && !f.collection) bad('collection', 'is required for a reference field');
    if (f.type !== 'reference' && f.collection !== undefined) bad('collection', 'applies to reference fields only');
    if (f.items !== undefined && f.type !== 'array') bad('items', 'applies to array fields only');
    if (f.unique && !SCALAR_TYPES.has(f.type)) bad('unique', `is not supported for ${f.type} fields`);
    if (f.pattern !== undefined && f.type !== 'string') bad('pattern', 'applies to string fields only');
    if (f.enum !== undefined) {
      if (f.type === 'string' && !f.enum.every((v) => typeof v === 'string')) bad('enum', 'must list strings');
      else if ((f.type === 'number' || f.type === 'integer') && !f.enum.every((v) => typeof v === 'number')) bad('enum', 'must list numbers');
      else if (!['string', 'number', 'integer'].includes(f.type)) bad('enum', 'applies to string, number and integer fields only');
    }
    if ((f.min !== undefined || f.max !== undefined) && !['string', 'number', 'integer', 'array'].includes(f.type)) {
      bad(f.min !== undefined ? 'min' : 'max', 'applies to string, number, integer and array fields only');
    }
    if (['string', 'array'].includes(f.type)) {
      for (const key of ['min', 'max'] as const) {
        const v = f[key];
        if (v !== undefined && (!Number.isInteger(v) || v < 0)) bad(key, 'must be a whole number of at least 0');
      }
    }
    if (f.min !== undefined && f.max !== undefined && f.min > f.max) bad('max', 'must not be less than min');
  });

const indexFieldsSchema = z.array(z.string().max(63)).min(1).max(LIMITS.fieldsPerIndex);
const indexDefSchema = z
  .strictObject({
    fields: indexFieldsSchema,
    unique: z.boolean().optional(),
    where: safeJsonObject.optional(),
    search: z.boolean().optional(),
    language: z.enum(SEARCH_LANGUAGES).optional(),
  })
  .superRefine((ix, ctx) => {
    const bad = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (ix.search && ix.unique) bad('unique', 'a search index cannot be unique');
    if (ix.search && ix.where) bad('where', 'a search index cannot be partial');
    if (ix.language !== undefined && !ix.search) bad('language', 'applies to search indexes only');
  });
const indexesSchema = z.array(z.union([indexFieldsSchema, indexDefSchema])).max(LIMITS.indexes);

/** System fields that may appear in indexes and sorts (they are table columns). */
export const COLUMN_FIELDS: ReadonlySet<string> = new Set(['id', 'createdAt', 'updatedAt', 'ownerId']);

/**
 * Cross-checks of a whole definition (duplicate fields, indexes naming known fields). Run on
 * the body of a create, and on the merged definition of an update.
 */
export function definitionIssues(fields: FieldDef[], indexes: IndexEntry[]): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const byName = new Map<string, FieldDef>();
  fields.forEach((f, i) => {
    if (byName.has(f.name)) issues.push({ path: ['fields', i, 'name'], message: 'is declared twice' });
    byName.set(f.name, f);
  });
  let searches = 0;
  indexes.forEach((entry, i) => {
    const index = indexFields(entry);
    const search = !Array.isArray(entry) && entry.search === true;
    if (search && ++searches > 1) issues.push({ path: ['indexes', i, 'search'], message: 'a collection has at most one search index' });
    const at = (j: number) => (Array.isArray(entry) ? ['indexes', i, j] : ['indexes', i, 'fields', j]);
    if (new Set(index).size !== index.length) issues.push({ path: ['indexes', i], message: 'names a field twice' });
    index.forEach((name, j) => {
      const field = byName.get(name);
      const path = at(j);
      if (search) {
        if (field?.type !== 'string') issues.push({ path, message: field ? 'only string fields can be searched' : `"${name}" is not a field of this collection` });
      } else if (!field) {
        if (!COLUMN_FIELDS.has(name)) issues.push({ path, message: `"${name}" is not a field of this collection` });
      } else if (!SCALAR_TYPES.has(field.type) && (index.length > 1 || (!Array.isArray(entry) && (entry.unique || entry.where)))) {
        issues.push({ path, message: `${field.type} fields can only be indexed alone, without unique or where` });
      }
    });
  });
  return issues;
}

function refineDefinition(def: { fields?: FieldDef[]; indexes?: IndexEntry[] }, ctx: z.RefinementCtx): void {
  if (def.fields === undefined || def.indexes === undefined) return; // an update: checked when merged
  for (const issue of definitionIssues(def.fields, def.indexes)) ctx.addIssue({ code: 'custom', ...issue });
}

export const createCollectionBody = z
  .strictObject({
    name: collectionName,
    fields: z.array(fieldSchema).max(LIMITS.fields).default([]),
    indexes: indexesSchema.default([]),
    rules: rulesSchema.default({ list: 'admin', read: 'admin', create: 'admin', update: 'admin', delete: 'admin' }),
  })
  .superRefine(refineDefinition);
export type CreateCollectionBody = z.infer<typeof createCollectionBody>;

/** Each part given replaces that part of the definition; parts left out stay as they are. */
export const updateCollectionBody = z
  .strictObject({
    fields: z.array(fieldSchema).max(LIMITS.fields).optional(),
    indexes: indexesSchema.optional(),
    rules: z
      .strictObject({
        list: ruleSchema.optional(),
        read: ruleSchema.optional(),
        create: ruleSchema.optional(),
        update: ruleSchema.optional(),
        delete: ruleSchema.optional(),
      })
      .optional(),
  })
  .superRefine(refineDefinition);
export type UpdateCollectionBody = z.infer<typeof updateCollectionBody>;
