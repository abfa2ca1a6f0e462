import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Prisma, PrismaClient } from '../../libs/database/src/generated/client.js';

/**
 * Proves the database built by our hand-written migrations is the one the generated client
 * expects: every model's every field is written, read back and compared, then deleted.
 * The models come from the client itself (Prisma.ModelName), and `factories` must have one
 * entry per model, so a model added to schema.prisma without a factory fails the typecheck.
 */

/** One row of model M with all its scalar fields, as the client returns it. */
type Row<M extends Prisma.ModelName> = Prisma.TypeMap['model'][M]['payload']['scalars'];
/** The client's delegate for model M (`prisma.outboxEvent` for `OutboxEvent`). */
type Delegate<M extends Prisma.ModelName> = PrismaClient[Uncapitalize<M>];

interface ModelFactory<M extends Prisma.ModelName> {
  /** The client's own list of the model's scalar fields (Prisma.<Model>ScalarFieldEnum; keys = values). */
  scalarFields: { readonly [K in keyof Row<M>]: K };
  /** A sample row with every field set, optional ones too, to values other than the defaults. */
  sample(): Row<M>;
  create(delegate: Delegate<M>, row: Row<M>): Promise<Row<M>>;
  /** Reads the row back by id, selecting every field explicitly. */
  findById(delegate: Delegate<M>, row: Row<M>): Promise<Row<M> | null>;
  delete(delegate: Delegate<M>, row: Row<M>): Promise<void>;
  /** Creates a row giving only the required fields, so the database defaults fill the rest. */
  createWithDefaults(delegate: Delegate<M>): Promise<Row<M>>;
  /** Asserts the defaults the schema declares were applied to a row from createWithDefaults. */
  expectDefaults(row: Row<M>): void;
}

const factories: { [M in Prisma.ModelName]: ModelFactory<M> } = {
  OutboxEvent: {
    scalarFields: Prisma.OutboxEventScalarFieldEnum,
    sample: () => ({
      id: '6f1c0a52-3d4e-4b7a-9c1d-2e3f4a5b6c7d',
      type: 'document.created',
      payload: {
        collection: 'posts',
        nested: { list: [1, 2.5, -3, 'ünïcødé ✓', true, false, null], empty: {} },
        big: 2 ** 53 - 1,
        nothing: null,
      },
      // Timestamptz(3): millisecond precision survives the round trip.
      createdAt: new Date('2026-01-02T03:04:05.678Z'),
      publishedAt: new Date('2026-01-02T03:04:06.789Z'),
      attempts: 7,
    }),
    create: (delegate, row) =>
      delegate.create({ data: { ...row, payload: row.payload ?? Prisma.JsonNull } }),
    findById: (delegate, row) =>
      delegate.findUnique({
        where: { id: row.id },
        select: { id: true, type: true, payload: true, createdAt: true, publishedAt: true, attempts: true },
      }),
    delete: async (delegate, row) => {
      await delegate.delete({ where: { id: row.id } });
    },
    createWithDefaults: (delegate) => delegate.create({ data: { type: 'document.deleted', payload: [] } }),
    expectDefaults: (row) => {
      // @default(dbgenerated("gen_random_uuid()")): only the database can fill it in.
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.payload).toEqual([]);
      expect(Math.abs(row.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
      expect(row.publishedAt).toBeNull();
      expect(row.attempts).toBe(0);
    },
  },
};

/** The client property holding model M's delegate. */
function delegateKey<M extends Prisma.ModelName>(model: M): Uncapitalize<M> {
  // toLowerCase() widens to string; the value is exactly Uncapitalize<M> (Prisma's naming rule).
  return (model.charAt(0).toLowerCase() + model.slice(1)) as Uncapitalize<M>;
}

let prisma: PrismaClient;

beforeAll(async () => {
  prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: inject('databaseUrl') }) });
  await prisma.$connect();
});

afterAll(async () => {
  await prisma?.$disconnect();
});

async function roundTrip<M extends Prisma.ModelName>(model: M): Promise<void> {
  const factory: ModelFactory<M> = factories[model];
  const delegate: Delegate<M> = prisma[delegateKey(model)];
  const sample = factory.sample();

  // The sample really sets every field the client knows about.
  const fields = Object.keys(factory.scalarFields).sort();
  expect(Object.keys(sample).sort()).toEqual(fields);
  for (const field of fields) expect(sample, `${model}.${field} in the sample`).not.toHaveProperty(field, null);

  const created = await factory.create(delegate, sample);
  expect(created).toEqual(sample);

  const read = await factory.findById(delegate, sample);
  expect(read).not.toBeNull();
  expect(Object.keys(read!).sort()).toEqual(fields);
  // toEqual compares Dates by instant and fails on a Date-vs-string mismatch, and compares
  // JSON deeply, so this checks the column types as well as the values.
  expect(read).toEqual(sample);

  await factory.delete(delegate, sample);
  expect(await factory.findById(delegate, sample)).toBeNull();
}

async function defaultsRoundTrip<M extends Prisma.ModelName>(model: M): Promise<void> {
  const factory: ModelFactory<M> = factories[model];
  const delegate: Delegate<M> = prisma[delegateKey(model)];

  const created = await factory.createWithDefaults(delegate);
  const fields = Object.keys(factory.scalarFields).sort();
  expect(Object.keys(created).sort()).toEqual(fields);
  factory.expectDefaults(created);
  expect(await factory.findById(delegate, created)).toEqual(created);

  await factory.delete(delegate, created);
  expect(await factory.findById(delegate, created)).toBeNull();
}

describe('the migrated database matches the generated Prisma client', () => {
  const models = Object.values(Prisma.ModelName);

  it('has a factory for every model of the client, and no other', () => {
    expect(models.length).toBeGreaterThan(0);
    expect(Object.keys(factories).sort()).toEqual([...models].sort());
  });

  describe.each(models)('%s', (model) => {
    it('creates a row with every field set, reads it back identical, and deletes it', async () => {
      await roundTrip(model);
    });

    it('creates a row from the required fields only, with the database filling the defaults', async () => {
      await defaultsRoundTrip(model);
    });
  });
});
