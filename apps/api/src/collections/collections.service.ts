import { Injectable } from '@nestjs/common';
import { AppException, conflict, type ErrorDetail, notFound, validationFailed } from '../common/app-exception.js';
import { DefinitionTx, CollectionsRepository } from './collections.repository.js';
import {
  type CollectionDef,
  type CreateCollectionBody,
  definitionIssues,
  type FieldDef,
  type RelatedDefs,
  type UpdateCollectionBody,
  USERS_TARGET,
} from './definition.js';
import { createTableStatements, dropIndexStatement, dropTableStatement, indexIssues, indexSpecs, nonConformingPredicate } from './ddl.js';
import { ruleIssues } from './rules.js';
import { checkValue } from './values.js';

/** How long a process trusts a cached definition; changes made through this process apply at once. */
export const DEFINITION_CACHE_MS = 2_000;

export interface CollectionView {
  name: string;
  fields: FieldDef[];
  indexes: CollectionDef['indexes'];
  rules: CollectionDef['rules'];
  createdAt: string;
  updatedAt: string;
}

export function toCollectionView(def: CollectionDef): CollectionView {
  return {
    name: def.name,
    fields: def.fields,
    indexes: def.indexes,
    rules: def.rules,
    createdAt: def.createdAt.toISOString(),
    updatedAt: def.updatedAt.toISOString(),
  };
}

function collectionNotFound(name: string): AppException {
  return notFound('COLLECTION_NOT_FOUND', `There is no collection "${name}"`);
}

function invalid(details: ErrorDetail[]): AppException {
  return validationFailed('The collection definition is not valid', details);
}

/** A definition with an update's parts applied. */
function merged(current: CollectionDef, body: UpdateCollectionBody): Omit<CollectionDef, 'createdAt' | 'updatedAt'> {
  return {
    name: current.name,
    fields: body.fields ?? current.fields,
    indexes: body.indexes ?? current.indexes,
    rules: { ...current.rules, ...Object.fromEntries(Object.entries(body.rules ?? {}).filter(([, v]) => v !== undefined)) },
  };
}

/** Cross-field problems of a whole definition: fields and indexes, partial index filters, rule expressions. */
function definitionProblems(def: Omit<CollectionDef, 'createdAt' | 'updatedAt'>, related?: RelatedDefs): { path: (string | number)[]; message: string }[] {
  // Without `related` (the pre-check before building indexes), rules reading references are left to the transaction.
  return [...definitionIssues(def.fields, def.indexes), ...indexIssues(def), ...(related ? ruleIssues(def.fields, def.rules, related) : [])];
}

@Injectable()
export class CollectionsService {
  private readonly cache = new Map<string, { def: CollectionDef | undefined; expires: number }>();

  constructor(private readonly repo: CollectionsRepository) {}

  /** The definition of a collection (the documents' hot path: cached briefly, also when missing). */
  async definition(name: string): Promise<CollectionDef | undefined> {
    const hit = this.cache.get(name);
    if (hit && hit.expires > Date.now()) return hit.def;
    const def = await this.repo.find(name);
    if (def) def.related = await this.relatedOf(def.fields, (target) => this.repo.find(target));
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(name, { def, expires: Date.now() + DEFINITION_CACHE_MS });
    return def;
  }

  /** The fields of the collections these reference fields point at (rules may read them through a reference). */
  private async relatedOf(fields: FieldDef[], find: (name: string) => Promise<CollectionDef | undefined>): Promise<RelatedDefs> {
    const related: RelatedDefs = {};
    for (const field of fields) {
      const target = field.type === 'reference' ? field.collection : undefined;
      if (!target || target === USERS_TARGET || related[target]) continue;
      const found = await find(target);
      if (found) related[target] = { fields: found.fields };
    }
    return related;
  }

  /** Reference fields with an `onDelete`, by the collection they point at (cached like definitions). */
  private onDeleteIndex?: { map: Map<string, { def: CollectionDef; field: FieldDef }[]>; expires: number };

  /** The reference fields (with their collections) whose `onDelete` applies when a document of `name` is deleted. */
  async referencing(name: string): Promise<{ def: CollectionDef; field: FieldDef }[]> {
    if (!this.onDeleteIndex || this.onDeleteIndex.expires <= Date.now()) {
      const map = new Map<string, { def: CollectionDef; field: FieldDef }[]>();
      for (const def of await this.repo.list()) {
        for (const field of def.fields) {
          if (field.type !== 'reference' || !field.onDelete || !field.collection) continue;
          map.set(field.collection, [...(map.get(field.collection) ?? []), { def, field }]);
        }
      }
      this.onDeleteIndex = { map, expires: Date.now() + DEFINITION_CACHE_MS };
    }
    return this.onDeleteIndex.map.get(name) ?? [];
  }

  async require(name: string): Promise<CollectionDef> {
    const def = await this.definition(name);
    if (!def) throw collectionNotFound(name);
    return def;
  }

  async list(): Promise<{ items: CollectionView[]; nextCursor: null }> {
    return { items: (await this.repo.list()).map(toCollectionView), nextCursor: null };
  }

  async get(name: string): Promise<CollectionView> {
    const def = await this.repo.find(name);
    if (!def) throw collectionNotFound(name);
    return toCollectionView(def);
  }

  async create(body: CreateCollectionBody): Promise<CollectionView> {
    if (body.name === USERS_TARGET) {
      throw invalid([{ path: 'name', message: `"${USERS_TARGET}" is reserved for references to the platform's users` }]);
    }
    const def = { name: body.name, fields: body.fields, indexes: body.indexes, rules: body.rules };
    // Fields and indexes are checked by the body schema; a rule may read the collection's own fields through a self-reference.
    const related = await this.relatedOf(def.fields, async (target) => (target === def.name ? { ...def, createdAt: new Date(), updatedAt: new Date() } : this.repo.find(target)));
    const issues = [...indexIssues(def), ...ruleIssues(def.fields, def.rules, related)];
    if (issues.length) throw invalid(issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
    this.checkDefaults(def.fields);
    try {
      const created = await this.repo.change(async (tx) => {
        if (await tx.get(def.name)) throw conflict('COLLECTION_EXISTS', `The collection "${def.name}" already exists`);
        await this.checkReferenceTargets(tx, def.name, def.fields);
        for (const statement of createTableStatements(def.name)) await tx.execute(statement);
        for (const spec of indexSpecs(def)) await tx.execute(spec.create);
        return tx.insert(def);
      });
      return toCollectionView(created);
    } finally {
      this.cache.clear(); // other definitions may read this one (onDelete, rules through references)
      this.onDeleteIndex = undefined;
    }
  }

  /**
   * Changes fields, indexes or rules. Safe for existing documents: a field that is added or
   * changes type is checked against the stored values first (409 when some do not fit), a
   * new unique field against duplicates, and writes to the collection wait while that runs.
   * Removing a field keeps its stored values (hidden; declaring it again brings them back).
   */
  async update(name: string, body: UpdateCollectionBody): Promise<CollectionView> {
    try {
      await this.buildNewIndexes(name, body);
      const saved = await this.repo.change(async (tx) => {
        const current = await tx.get(name);
        if (!current) throw collectionNotFound(name);
        const next = merged(current, body);
        const related = await this.relatedOf(next.fields, async (target) => (target === name ? { ...next, createdAt: current.createdAt, updatedAt: current.updatedAt } : tx.get(target)));
        const issues = definitionProblems(next, related);
        if (issues.length) throw invalid(issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
        this.checkDefaults(next.fields);
        await this.checkReferenceTargets(tx, name, next.fields);

        const before = new Map(current.fields.map((f) => [f.name, f]));
        const toCheck = next.fields.filter((f) => {
          const old = before.get(f.name);
          return !old || old.type !== f.type || old.items !== f.items;
        });
        const oldSpecs = indexSpecs(current);
        const newSpecs = indexSpecs(next);
        const drops = oldSpecs.filter((s) => !newSpecs.some((n) => n.name === s.name));
        const creates = newSpecs.filter((s) => !oldSpecs.some((o) => o.name === s.name));
        // Writes wait only while stored values are checked against changed fields; new indexes
        // were built beforehand without blocking writes (buildNewIndexes), so creating them here is a no-op.
        if (toCheck.length > 0) await tx.lockTable(name);

        const conflicts: ErrorDetail[] = [];
        for (const field of toCheck) {
          const predicate = nonConformingPredicate(field);
          if (!predicate) continue;
          const n = await tx.countWhere(name, predicate);
          if (n > 0) {
            const path = `fields.${next.fields.indexOf(field)}.type`;
            conflicts.push({ path, message: `${n} stored document(s) have a "${field.name}" value that is not a valid ${field.type}` });
          }
        }
        for (const spec of drops) await tx.execute(dropIndexStatement(spec.name));
        for (const spec of creates.filter((s) => s.unique)) {
          if (!(await tx.tryCreateUnique(spec.create))) {
            conflicts.push({ path: spec.source, message: `stored documents share values of ${spec.fields.map((f) => `"${f}"`).join(', ')}` });
          }
        }
        if (conflicts.length) {
          throw new AppException(409, 'DATA_CONFLICT', 'The change does not fit the documents already stored', conflicts);
        }
        for (const spec of creates.filter((s) => !s.unique)) await tx.execute(spec.create);
        return tx.save(next);
      });
      return toCollectionView(saved);
    } finally {
      this.cache.clear(); // other definitions may read this one (onDelete, rules through references)
      this.onDeleteIndex = undefined;
    }
  }

  /**
   * Builds the indexes a change adds with CREATE INDEX CONCURRENTLY, before the definition
   * transaction: reads and writes of the collection go on meanwhile. A unique index that the
   * stored documents violate fails: the indexes built here are dropped again and the answer is
   * 409 DATA_CONFLICT at its path. Invalid changes are left to the transaction to report.
   */
  private async buildNewIndexes(name: string, body: UpdateCollectionBody): Promise<void> {
    if (body.indexes === undefined && body.fields === undefined) return;
    const current = await this.repo.find(name);
    if (!current) return;
    const next = merged(current, body);
    if (definitionProblems(next).length) return;
    const old = new Set(indexSpecs(current).map((spec) => spec.name));
    const built: string[] = [];
    for (const spec of indexSpecs(next).filter((s) => !old.has(s.name))) {
      if (await this.repo.createIndexConcurrently(spec.createConcurrently)) {
        built.push(spec.name);
        continue;
      }
      for (const done of [...built, spec.name]) await this.repo.dropIndexConcurrently(done);
      throw new AppException(409, 'DATA_CONFLICT', 'The change does not fit the documents already stored', [
        { path: spec.source, message: `stored documents share values of ${spec.fields.map((f) => `"${f}"`).join(', ')}` },
      ]);
    }
  }

  /**
   * Deletes a collection with its table. Refused while another collection references it, and
   * while it still holds documents unless `force` is set.
   */
  async remove(name: string, force: boolean): Promise<void> {
    try {
      await this.repo.change(async (tx) => {
        const current = await tx.get(name);
        if (!current) throw collectionNotFound(name);
        const referencing = (await tx.all()).flatMap((other) =>
          other.name === name
            ? []
            : other.fields.filter((f) => f.type === 'reference' && f.collection === name).map((f) => ({ other, f })),
        );
        if (referencing.length) {
          throw new AppException(
            409,
            'COLLECTION_REFERENCED',
            `Other collections reference "${name}"; remove those fields first`,
            referencing.map(({ other, f }) => ({ path: `${other.name}.${f.name}`, message: `references ${name}` })),
          );
        }
        if (!force && !(await tx.isEmpty(name))) {
          throw conflict('COLLECTION_NOT_EMPTY', `The collection "${name}" still has documents; pass force=true to delete them too`);
        }
        await tx.execute(dropTableStatement(name));
        await tx.remove(name);
      });
    } finally {
      this.cache.clear(); // other definitions may read this one (onDelete, rules through references)
      this.onDeleteIndex = undefined;
    }
  }

  private checkDefaults(fields: FieldDef[]): void {
    const details: ErrorDetail[] = [];
    fields.forEach((field, i) => {
      if (field.default === undefined || field.default === null) return;
      const checked = checkValue(field, field.default);
      if (!checked.ok) details.push({ path: `fields.${i}.default`, message: checked.message });
      else field.default = checked.value;
    });
    if (details.length) throw invalid(details);
  }

  private async checkReferenceTargets(tx: DefinitionTx, self: string, fields: FieldDef[]): Promise<void> {
    const details: ErrorDetail[] = [];
    for (const [i, field] of fields.entries()) {
      if (field.type !== 'reference' || field.collection === USERS_TARGET || field.collection === self) continue;
      if (!(await tx.get(field.collection!))) details.push({ path: `fields.${i}.collection`, message: `there is no collection "${field.collection}"` });
    }
    if (details.length) throw invalid(details);
  }
}
