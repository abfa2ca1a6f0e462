import { Injectable } from '@nestjs/common';
import { AppException, type ErrorDetail } from '../common/app-exception.js';
import { DefinitionTx, CollectionsRepository } from './collections.repository.js';
import {
  type CollectionDef,
  type CreateCollectionBody,
  definitionIssues,
  type FieldDef,
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

function notFound(name: string): AppException {
  return new AppException(404, 'COLLECTION_NOT_FOUND', `There is no collection "${name}"`);
}

function invalid(details: ErrorDetail[]): AppException {
  return new AppException(400, 'VALIDATION_FAILED', 'The collection definition is not valid', details);
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
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(name, { def, expires: Date.now() + DEFINITION_CACHE_MS });
    return def;
  }

  async require(name: string): Promise<CollectionDef> {
    const def = await this.definition(name);
    if (!def) throw notFound(name);
    return def;
  }

  async list(): Promise<{ items: CollectionView[]; nextCursor: null }> {
    return { items: (await this.repo.list()).map(toCollectionView), nextCursor: null };
  }

  async get(name: string): Promise<CollectionView> {
    const def = await this.repo.find(name);
    if (!def) throw notFound(name);
    return toCollectionView(def);
  }

  async create(body: CreateCollectionBody): Promise<CollectionView> {
    if (body.name === USERS_TARGET) {
      throw invalid([{ path: 'name', message: `"${USERS_TARGET}" is reserved for references to the platform's users` }]);
    }
    const def = { name: body.name, fields: body.fields, indexes: body.indexes, rules: body.rules };
    const issues = [...indexIssues(def), ...ruleIssues(def.fields, def.rules)];
    if (issues.length) throw invalid(issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
    this.checkDefaults(def.fields);
    try {
      const created = await this.repo.change(async (tx) => {
        if (await tx.get(def.name)) throw new AppException(409, 'COLLECTION_EXISTS', `The collection "${def.name}" already exists`);
        await this.checkReferenceTargets(tx, def.name, def.fields);
        for (const statement of createTableStatements(def.name)) await tx.execute(statement);
        for (const spec of indexSpecs(def)) await tx.execute(spec.create);
        return tx.insert(def);
      });
      return toCollectionView(created);
    } finally {
      this.cache.delete(def.name);
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
      const saved = await this.repo.change(async (tx) => {
        const current = await tx.get(name);
        if (!current) throw notFound(name);
        const next = {
          name,
          fields: body.fields ?? current.fields,
          indexes: body.indexes ?? current.indexes,
          rules: { ...current.rules, ...Object.fromEntries(Object.entries(body.rules ?? {}).filter(([, v]) => v !== undefined)) },
        };
        const issues = [...definitionIssues(next.fields, next.indexes), ...indexIssues(next), ...ruleIssues(next.fields, next.rules)];
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
        if (toCheck.length > 0 || creates.length > 0) await tx.lockTable(name);

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
      this.cache.delete(name);
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
        if (!current) throw notFound(name);
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
          throw new AppException(409, 'COLLECTION_NOT_EMPTY', `The collection "${name}" still has documents; pass force=true to delete them too`);
        }
        await tx.execute(dropTableStatement(name));
        await tx.remove(name);
      });
    } finally {
      this.cache.delete(name);
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
