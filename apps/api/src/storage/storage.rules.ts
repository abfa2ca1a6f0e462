import { z } from 'zod';
import type { Caller } from '../auth/caller.js';
import { type FieldDef, type Rule, ruleSchema } from '../collections/definition.js';
import { ruleAllows } from '../collections/permissions.js';
import { READ_CONTEXT, ruleIssues, ruleSql } from '../collections/rules.js';
import type { Params } from '../collections/sql.js';

/**
 * Storage rules (docs/storage.md): per bucket, `read` (who else may read: a grant beside the
 * public flag, the owner and the ACL), `create` (upload, upload URL), `update` (PATCH of a file)
 * and `delete`, each a rule in the collection rule language (shorthands, expressions, lists)
 * over the file and the caller. Write rules narrow: a write must pass the file's own checks
 * (owner, ACL) and the bucket's rule. Admins and the service role pass every rule.
 */

export const BUCKET_RULE_NAMES = ['read', 'create', 'update', 'delete'] as const;
export type BucketRuleName = (typeof BUCKET_RULE_NAMES)[number];
export type BucketRules = Partial<Record<BucketRuleName, Rule>>;

/** How many leading key segments have their own field (`segment0` ... `segment3`). */
const SEGMENT_FIELDS = 4;

/** What a storage rule can read of a file, as fields of the rule language (plus `ownerId`). */
export const FILE_RULE_FIELDS: FieldDef[] = [
  { name: 'bucket', type: 'string' },
  { name: 'key', type: 'string' },
  { name: 'name', type: 'string' },
  { name: 'dir', type: 'string' },
  { name: 'segments', type: 'array', items: 'string' },
  { name: 'depth', type: 'integer' },
  ...Array.from({ length: SEGMENT_FIELDS }, (_, i): FieldDef => ({ name: `segment${i}`, type: 'string' })),
  { name: 'size', type: 'integer' },
  { name: 'contentType', type: 'string' },
];
const FILE_DEF = { fields: FILE_RULE_FIELDS };

export const bucketRulesSchema = z
  .strictObject({ read: ruleSchema.optional(), create: ruleSchema.optional(), update: ruleSchema.optional(), delete: ruleSchema.optional() })
  .describe('rules over the file (key, segments, size, contentType, ...) and the caller: read grants reading; create/update/delete narrow writes');

/** Problems of bucket rules against the file fields, with paths (`rules.create.segment0`). */
export function bucketRuleIssues(rules: BucketRules): { path: string; message: string }[] {
  return ruleIssues(FILE_RULE_FIELDS, rules).map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

export interface RuleFile {
  bucket: string;
  key: string;
  size: number;
  contentType: string;
  ownerId: string | null;
}

/** The fields a rule reads of a file. */
export function fileFields(file: RuleFile): Record<string, unknown> {
  const segments = file.key.split('/');
  const fields: Record<string, unknown> = {
    bucket: file.bucket,
    key: file.key,
    name: segments.at(-1) ?? '',
    dir: segments.slice(0, -1).join('/'),
    segments,
    depth: segments.length,
    size: file.size,
    contentType: file.contentType,
  };
  segments.slice(0, SEGMENT_FIELDS).forEach((segment, i) => (fields[`segment${i}`] = segment));
  return fields;
}

/**
 * Whether the bucket's rule for `op` lets the caller do it to `stored` (the file as it is;
 * for create, the new file). `next` is the file as the write leaves it (`@data`).
 */
export function bucketRuleAllows(caller: Caller, rules: BucketRules | null, op: BucketRuleName, stored: RuleFile, next: RuleFile = stored): boolean {
  const rule = rules?.[op];
  if (rule === undefined) return op !== 'read'; // no read rule grants nothing more
  const method = op === 'read' ? 'GET' : op === 'create' ? 'POST' : op === 'update' ? 'PATCH' : 'DELETE';
  const data = op === 'delete' || op === 'read' ? undefined : { ...fileFields(next), ownerId: next.ownerId };
  return ruleAllows(caller, rule, { ownerId: stored.ownerId, acl: null, data: fileFields(stored) }, FILE_DEF, { method, ...(data ? { data } : {}) });
}

/**
 * The read rule as a SQL predicate over `d`, a storage_files row seen through FILE_ROW_SQL
 * (its virtual fields in `d.data`, as fileFields() computes them); false when it grants nothing.
 */
export function readRuleSql(caller: Caller, rules: BucketRules | null, params: Params): string | false {
  const rule = rules?.read;
  if (rule === undefined) return false;
  return ruleSql(caller, rule, params, 'd', FILE_DEF, READ_CONTEXT);
}

/** storage_files rows with the fields rules read as `data` (the same values as fileFields()). */
export const FILE_ROW_SQL = `(SELECT f.*, jsonb_strip_nulls(jsonb_build_object(
    'bucket', f.bucket, 'key', f.key,
    'name', regexp_replace(f.key, '^.*/', ''),
    'dir', CASE WHEN strpos(f.key, '/') > 0 THEN regexp_replace(f.key, '/[^/]*$', '') ELSE '' END,
    'segments', to_jsonb(string_to_array(f.key, '/')),
    'depth', cardinality(string_to_array(f.key, '/')),
    ${Array.from({ length: SEGMENT_FIELDS }, (_, i) => `'segment${i}', (string_to_array(f.key, '/'))[${i + 1}]`).join(', ')},
    'size', f.size, 'contentType', f.content_type)) AS data
  FROM storage_files f) d`;
