import { z } from 'zod';
import { collectionName, FIELD_TYPES, ITEM_TYPES, ON_DELETE, SEARCH_LANGUAGES } from './definition.js';

export { createCollectionBody, updateCollectionBody } from './definition.js';

export const collectionNameParam = collectionName;

export const deleteCollectionQuery = z.strictObject({
  force: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true')
    .describe('also delete the documents of a non-empty collection'),
});

const ruleItemView = z.union([z.string(), z.record(z.string(), z.unknown())]);
const ruleView = z
  .union([ruleItemView, z.array(ruleItemView)])
  .describe('public | authenticated | owner | admin | role:<name>, a filter expression with @auth/@request/@data variables, or a list of these (any one allows)');

/** A collection definition as the api answers it. */
export const collectionView = z.object({
  name: z.string(),
  fields: z.array(
    z.object({
      name: z.string(),
      type: z.enum(FIELD_TYPES),
      required: z.boolean().optional(),
      unique: z.boolean().optional(),
      default: z.unknown().optional(),
      min: z.number().optional(),
      max: z.number().optional(),
      pattern: z.string().optional(),
      enum: z.array(z.union([z.string(), z.number()])).optional(),
      collection: z.string().optional(),
      items: z.enum(ITEM_TYPES).optional(),
      onDelete: z.enum(ON_DELETE).optional(),
    }),
  ),
  indexes: z.array(
    z.union([
      z.array(z.string()),
      z.object({
        fields: z.array(z.string()),
        unique: z.boolean().optional(),
        where: z.record(z.string(), z.unknown()).optional(),
        search: z.boolean().optional(),
        language: z.enum(SEARCH_LANGUAGES).optional(),
      }),
    ]),
  ),
  rules: z.object({ list: ruleView, read: ruleView, create: ruleView, update: ruleView, delete: ruleView }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
}).meta({ id: 'Collection' });

export const collectionList = z.object({ items: z.array(collectionView), nextCursor: z.null() }).meta({ id: 'CollectionList' });
