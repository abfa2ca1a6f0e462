import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, openAsBlob, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { create as tarCreate, extract as tarExtract } from 'tar';
import type { Context } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type FunctionExport, withPublicHttpDefault } from '../functions-api.js';
import type { Bucket, Collection, EmailTemplate, ErrorCode, FileInfo, TransferDocument, TransferUser } from '../sdk.js';
import { isBaasError } from '../sdk.js';

/** The layout of an export folder (docs/cli.md, "export / import"). */
export const EXPORT_FORMAT = 'selfbaas-export';
/** 2: http triggers as the server stores them since issue 20 (no `access` = authenticated); in 1 no `access` meant public. */
export const EXPORT_VERSION = 2;
const BATCH = 500;
const BATCH_BYTES = 512 * 1024;
const PARTS = ['collections', 'users', 'files', 'functions', 'email'] as const;
type Part = (typeof PARTS)[number];

interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  version: number;
  exportedAt: string;
  source: string;
  parts: Part[];
  counts: Record<string, number>;
}

type TemplateExport = Pick<EmailTemplate, 'name' | 'subject' | 'html' | 'text'>;

export interface TransferOptions {
  only?: string;
}

function selectedParts(only: string | undefined): Part[] {
  if (!only) return [...PARTS];
  const wanted = only.split(',').map((p) => p.trim());
  const unknown = wanted.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length) throw new CliError(`--only takes ${PARTS.join(', ')} (got ${unknown.join(', ')})`, EXIT.USAGE);
  return wanted as Part[];
}

const isArchive = (path: string) => /\.(tar\.gz|tgz)$/.test(path);

async function writeLines(file: string, items: AsyncIterable<unknown>, onItem: () => void): Promise<number> {
  const out = createWriteStream(file);
  let n = 0;
  for await (const item of items) {
    if (!out.write(`${JSON.stringify(item)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    n++;
    onItem();
  }
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
  return n;
}

async function* readLines<T>(file: string): AsyncGenerator<T> {
  if (!existsSync(file)) return;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let number = 0;
  for await (const line of lines) {
    number++;
    if (!line.trim()) continue;
    try {
      yield JSON.parse(line) as T;
    } catch {
      throw new CliError(`${file}:${number} is not JSON`, EXIT.USAGE);
    }
  }
}

/**
 * Groups items for the import routes: at most `size` items and about BATCH_BYTES of JSON per
 * request (the api's body limit, BODY_LIMIT_BYTES, is 1 MiB by default).
 */
async function* batches<T>(items: AsyncIterable<T>, size = BATCH): AsyncGenerator<T[]> {
  let batch: T[] = [];
  let bytes = 0;
  for await (const item of items) {
    const itemBytes = JSON.stringify(item).length;
    if (batch.length > 0 && (batch.length >= size || bytes + itemBytes > BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += itemBytes;
  }
  if (batch.length) yield batch;
}

/** `export <target>`: a folder (or a .tar.gz) with everything `import` needs. */
export async function exportData(ctx: Context, target: string, options: TransferOptions): Promise<void> {
  const parts = selectedParts(options.only);
  const destination = resolve(ctx.io.cwd, target);
  const archive = isArchive(destination);
  const dir = archive ? mkdtempSync(join(tmpdir(), 'selfbaas-export-')) : destination;
  if (!archive && existsSync(dir) && readdirSync(dir).length > 0) throw new CliError(`${dir} is not empty: export into a new folder`, EXIT.USAGE);
  const client = ctx.client;
  const counts: Record<string, number> = {};
  try {
    mkdirSync(dir, { recursive: true });
    if (parts.includes('collections')) {
      mkdirSync(join(dir, 'collections'));
      const collections = await client.admin.collections.list();
      counts['collections'] = collections.length;
      counts['documents'] = 0;
      for (const collection of collections) {
        const { name, fields, indexes, rules } = collection;
        writeFileSync(join(dir, 'collections', `${name}.schema.json`), `${JSON.stringify({ name, fields, indexes, rules }, null, 2)}\n`);
        const ref = client.collection(name);
        const bar = ctx.out.progress(`Documents of ${name}`, await ref.count());
        counts['documents'] += await writeLines(join(dir, 'collections', `${name}.ndjson`), ref.iterate({ limit: 100 }), () => bar.tick());
        bar.stop();
      }
    }
    if (parts.includes('users')) {
      const bar = ctx.out.progress('Users', 0);
      counts['users'] = await writeLines(join(dir, 'users.ndjson'), client.admin.transfer.allUsers(), () => (bar.grow(1), bar.tick()));
      bar.stop();
    }
    if (parts.includes('files')) {
      mkdirSync(join(dir, 'files'));
      const buckets = await client.admin.buckets.list();
      writeFileSync(join(dir, 'files', 'buckets.json'), `${JSON.stringify(buckets.map(bucketInput), null, 2)}\n`);
      counts['buckets'] = buckets.length;
      counts['files'] = 0;
      counts['bytes'] = 0;
      for (const bucket of buckets) {
        const folder = join(dir, 'files', bucket.name);
        mkdirSync(folder);
        const bar = ctx.out.progress(`Files of ${bucket.name}`, 0);
        counts['files'] += await writeLines(
          join(dir, 'files', `${bucket.name}.ndjson`),
          (async function* () {
            for await (const file of client.storage.from(bucket.name).iterate()) {
              const stream = await client.storage.stream(file.id);
              await pipeline(Readable.fromWeb(stream.body), createWriteStream(join(folder, file.id)));
              counts['bytes']! += file.size;
              bar.grow(1);
              yield file;
            }
          })(),
          () => bar.tick(),
        );
        bar.stop();
      }
    }
    if (parts.includes('functions')) {
      mkdirSync(join(dir, 'functions'));
      const functions = await ctx.functions.list();
      for (const info of functions) {
        writeFileSync(join(dir, 'functions', `${info.name}.json`), `${JSON.stringify(await ctx.functions.exportDefinition(info.name), null, 2)}\n`);
      }
      counts['functions'] = functions.length;
    }
    if (parts.includes('email')) {
      // The templates this installation defined or changed (built-in ones left as shipped are not moved).
      const templates = (await client.admin.email.templates.list()).filter((t) => !t.builtIn || t.overridden);
      mkdirSync(join(dir, 'email'));
      writeFileSync(join(dir, 'email', 'templates.json'), `${JSON.stringify(templates.map(({ name, subject, html, text }) => ({ name, subject, html, text })), null, 2)}\n`);
      counts['templates'] = templates.length;
    }
    const manifest: ExportManifest = { format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: new Date().toISOString(), source: client.url, parts, counts };
    writeFileSync(join(dir, 'export.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    if (archive) {
      mkdirSync(dirname(destination), { recursive: true });
      await tarCreate({ gzip: true, file: destination, cwd: dir, portable: true }, readdirSync(dir));
    }
    ctx.out.result({ path: destination, ...manifest }, () => {
      ctx.out.line(`${ctx.out.color.green('Exported')} ${client.url} to ${destination}`);
      for (const [what, n] of Object.entries(counts)) ctx.out.line(`  ${what}: ${n}`);
      if (parts.includes('users')) ctx.out.line(ctx.out.color.dim('  (users carry argon2 password hashes: keep the export as private as the database)'));
    });
  } finally {
    if (archive) rmSync(dir, { recursive: true, force: true });
  }
}

function bucketInput(b: Bucket) {
  return { name: b.name, public: b.public, maxFileSize: b.maxFileSize, allowedMimeTypes: b.allowedMimeTypes };
}

/** `import <source>`: what `export` wrote, into the target server. Existing ids are left as they are (it can run again). */
export async function importData(ctx: Context, source: string, options: TransferOptions): Promise<void> {
  const origin = resolve(ctx.io.cwd, source);
  if (!existsSync(origin)) throw new CliError(`${origin} does not exist`, EXIT.USAGE);
  const archive = statSync(origin).isFile();
  const dir = archive ? mkdtempSync(join(tmpdir(), 'selfbaas-import-')) : origin;
  try {
    if (archive) {
      try {
        await tarExtract({ file: origin, cwd: dir, strict: true });
      } catch (err) {
        throw new CliError(`${origin} is not a .tar.gz export: ${err instanceof Error ? err.message : String(err)}`, EXIT.USAGE);
      }
    }
    const manifest = readManifest(dir);
    const parts = selectedParts(options.only).filter((p) => manifest.parts.includes(p));
    const client = ctx.client;
    const warnings: string[] = [];
    const report: Record<string, { created: number; skipped: number }> = {};
    const add = (what: string, created: number, skipped: number) => {
      const r = (report[what] ??= { created: 0, skipped: 0 });
      r.created += created;
      r.skipped += skipped;
    };

    // Users first: documents and files name their owners.
    if (parts.includes('users')) {
      const bar = ctx.out.progress('Users', manifest.counts['users'] ?? 0);
      for await (const batch of batches(readLines<TransferUser>(join(dir, 'users.ndjson')))) {
        const result = await client.admin.transfer.importUsers(batch);
        add('users', result.created, result.skipped.length);
        for (const id of result.emailTaken) {
          const email = batch.find((u) => u.id === id)?.email;
          warnings.push(`user ${id} (${email}) not imported: another account has that email here; what that user owns keeps an owner id that is no user here`);
        }
        bar.tick(batch.length);
      }
      bar.stop();
    }
    if (parts.includes('collections')) {
      const schemas = listFiles(join(dir, 'collections'), '.schema.json').map((f) => readJson<Pick<Collection, 'name' | 'fields' | 'indexes' | 'rules'>>(f));
      for (const schema of referencedFirst(schemas)) {
        add('collections', ...(await createUnlessExists(() => client.admin.collections.create(schema), 'COLLECTION_EXISTS')));
      }
      for (const schema of schemas) {
        const bar = ctx.out.progress(`Documents of ${schema.name}`, 0);
        for await (const batch of batches(readLines<TransferDocument>(join(dir, 'collections', `${schema.name}.ndjson`)))) {
          bar.grow(batch.length);
          const result = await client.admin.transfer.importDocuments(schema.name, batch);
          add('documents', result.created, result.skipped.length);
          bar.tick(batch.length);
        }
        bar.stop();
      }
    }
    if (parts.includes('files')) {
      const buckets = readJson<ReturnType<typeof bucketInput>[]>(join(dir, 'files', 'buckets.json'));
      for (const bucket of buckets) {
        add('buckets', ...(await createUnlessExists(() => client.admin.buckets.create(bucket), 'BUCKET_EXISTS')));
        const bar = ctx.out.progress(`Files of ${bucket.name}`, 0);
        for await (const file of readLines<FileInfo>(join(dir, 'files', `${bucket.name}.ndjson`))) {
          bar.grow(1);
          const bytes = await openAsBlob(join(dir, 'files', bucket.name, basename(file.id)), { type: file.contentType });
          const meta = { id: file.id, key: file.key, ownerId: file.ownerId, createdAt: file.createdAt, contentType: file.contentType, acl: file.acl };
          add('files', ...(await createUnlessExists(() => client.admin.transfer.importFile(bucket.name, bytes, meta), 'FILE_EXISTS')));
          bar.tick();
        }
        bar.stop();
      }
    }
    if (parts.includes('functions')) {
      const folder = join(dir, 'functions');
      for (const file of listFiles(folder, '.json')) {
        const read = readJson<FunctionExport>(file);
        const fn = manifest.version < 2 ? withPublicHttpDefault(read) : read;
        const { deployed, missingSecrets } = await ctx.functions.importDefinition(fn);
        add('functions', deployed ? 1 : 0, deployed ? 0 : 1);
        if (missingSecrets.length) warnings.push(`function ${fn.name}: set the secret(s) ${missingSecrets.join(', ')} again (values are never exported)`);
      }
    }
    if (parts.includes('email')) {
      const existing = new Map((await client.admin.email.templates.list()).map((t) => [t.name, t]));
      for (const template of readJson<TemplateExport[]>(join(dir, 'email', 'templates.json'))) {
        const there = existing.get(template.name);
        // A template the target defined or changed itself is left alone; a shipped one is replaced.
        if (there && (!there.builtIn || there.overridden)) add('templates', 0, 1);
        else {
          const { name, ...content } = template;
          await client.admin.email.templates.put(name, content);
          add('templates', 1, 0);
        }
      }
    }
    ctx.out.result({ source: origin, from: manifest.source, imported: report, warnings }, () => {
      ctx.out.line(`${ctx.out.color.green('Imported')} ${origin} into ${client.url}`);
      for (const [what, r] of Object.entries(report)) ctx.out.line(`  ${what}: ${r.created} created${r.skipped ? `, ${r.skipped} already there` : ''}`);
      for (const w of warnings) ctx.out.warn(w);
    });
  } finally {
    if (archive) rmSync(dir, { recursive: true, force: true });
  }
}

/** A JSON file of an export (its shape is the export's: written by `export`). */
function readJson<T>(file: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CliError(`${file} is missing: the export is incomplete`, EXIT.USAGE);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError(`${file} is not JSON: the export is damaged`, EXIT.USAGE);
  }
}

/** The files of a folder of an export with that ending (none when the folder is missing). */
function listFiles(folder: string, ending: string): string[] {
  return existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith(ending)).sort().map((f) => join(folder, f)) : [];
}

/** Creates something: `[created, skipped]` is [1, 0], or [0, 1] when the server says it exists already. */
async function createUnlessExists(create: () => Promise<unknown>, existsCode: ErrorCode): Promise<[number, number]> {
  try {
    await create();
    return [1, 0];
  } catch (err) {
    if (!isBaasError(err, existsCode)) throw err;
    return [0, 1];
  }
}

function readManifest(dir: string): ExportManifest {
  const file = join(dir, 'export.json');
  if (!existsSync(file)) throw new CliError(`${dir} is not a selfbaas export (no export.json)`, EXIT.USAGE);
  const manifest = readJson<Partial<ExportManifest>>(file);
  if (manifest.format !== EXPORT_FORMAT || typeof manifest.version !== 'number' || !Array.isArray(manifest.parts)) {
    throw new CliError(`${file} is not a selfbaas export manifest`, EXIT.USAGE);
  }
  if (manifest.version > EXPORT_VERSION) throw new CliError(`${file} is format version ${manifest.version}; this CLI reads up to ${EXPORT_VERSION}: update it`, EXIT.USAGE);
  return { counts: {}, ...manifest } as ExportManifest;
}

/** Collections ordered so that one a reference field points to is created before it (cycles keep their order). */
function referencedFirst<T extends { name: string; fields: { type: string; collection?: string }[] }>(schemas: T[]): T[] {
  const byName = new Map(schemas.map((s) => [s.name, s]));
  const done = new Set<string>();
  const order: T[] = [];
  const visit = (s: T, path: Set<string>) => {
    if (done.has(s.name) || path.has(s.name)) return;
    path.add(s.name);
    for (const f of s.fields) {
      const target = f.type === 'reference' && f.collection ? byName.get(f.collection) : undefined;
      if (target) visit(target, path);
    }
    done.add(s.name);
    order.push(s);
  };
  for (const s of schemas) visit(s, new Set());
  return order;
}
