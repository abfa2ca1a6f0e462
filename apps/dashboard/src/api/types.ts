/** Shapes the pages use, derived from the SDK's types (which are generated from the OpenAPI document). */
import type { AdminOverview, Collection, Doc as SdkDoc, FunctionInfo } from '@selfbaas/sdk';

export type FieldDef = Collection['fields'][number];
export type FieldType = FieldDef['type'];
export const FIELD_TYPES: readonly FieldType[] = ['string', 'number', 'integer', 'boolean', 'date', 'json', 'array', 'reference'];

export const RULE_NAMES = ['list', 'read', 'create', 'update', 'delete'] as const;
export type RuleName = (typeof RULE_NAMES)[number];

/** An index: field names, or an object (compound/partial unique, search). */
export type IndexEntry = Collection['indexes'][number];

/** A rule: a shorthand (`owner`), a filter expression, or a list of them. */
export type Rule = Collection['rules']['list'];

/** A rule as the editor shows it: shorthands as they are, expressions and lists as JSON. */
export function ruleText(rule: Rule): string {
  return typeof rule === 'string' ? rule : JSON.stringify(rule);
}

/** The editor's text back into a rule (text that is not JSON goes as it is; the api validates). */
export function parseRule(text: string): Rule {
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.parse(t) as Rule;
    } catch {
      return t;
    }
  }
  return t;
}

/** What the schema editor produces (the api validates rules and fields). */
export interface CollectionInput {
  name: string;
  fields: FieldDef[];
  indexes: IndexEntry[];
  rules: Record<RuleName, Rule>;
}

export type Doc = SdkDoc<Record<string, unknown>>;
export type Trigger = FunctionInfo['triggers'][number];
export type CheckStatus = AdminOverview['health']['checks']['postgres'];
