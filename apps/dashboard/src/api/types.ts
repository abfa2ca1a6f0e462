/** Shapes the pages use, derived from the SDK's types (which are generated from the OpenAPI document). */
import type { AdminOverview, Collection, Doc as SdkDoc, FunctionInfo } from '@selfbaas/sdk';

export type FieldDef = Collection['fields'][number];
export type FieldType = FieldDef['type'];
export const FIELD_TYPES: readonly FieldType[] = ['string', 'number', 'integer', 'boolean', 'date', 'json', 'array', 'reference'];

export const RULE_NAMES = ['list', 'read', 'create', 'update', 'delete'] as const;
export type RuleName = (typeof RULE_NAMES)[number];

/** What the schema editor produces (the api validates rules and fields). */
export interface CollectionInput {
  name: string;
  fields: FieldDef[];
  indexes: string[][];
  rules: Record<RuleName, string>;
}

export type Doc = SdkDoc<Record<string, unknown>>;
export type Trigger = FunctionInfo['triggers'][number];
export type CheckStatus = AdminOverview['health']['checks']['postgres'];
