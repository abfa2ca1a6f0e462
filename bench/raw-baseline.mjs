// The physical limit for bench/system.mjs: a minimal Fastify + pg server issuing the same SQL
// as the data API's hot paths on the same table (the api's collection, in its database), with
// no auth, no validation, no permissions and no change feed. One process, a pool of the same
// size as the api's (DATABASE_POOL_MAX, 10). Started and stopped by the benchmark.
//
//   DATABASE_URL=... PORT=... TABLE='data."items"' SCORE_EXPR='(...)' node bench/raw-baseline.mjs
import Fastify from 'fastify';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const table = process.env.TABLE; // a quoted identifier from the benchmark, never request input
const score = process.env.SCORE_EXPR; // the expression of the api's index on `score`, read from pg_indexes
const COLUMNS = 'd.id, d.data, d.owner_id, d.acl, d.version, d.created_at, d.updated_at';
const doc = (r) => ({ ...r.data, id: r.id, ownerId: r.owner_id, acl: r.acl, version: r.version, createdAt: r.created_at, updatedAt: r.updated_at });

const app = Fastify({ logger: false });
app.post('/items', async (req, reply) => {
  const { rows } = await pool.query(
    `INSERT INTO ${table} AS d (id, data, owner_id, acl, version, created_at, updated_at)
     VALUES (gen_random_uuid(), $1::jsonb, NULL, NULL, 1, clock_timestamp(), clock_timestamp()) RETURNING ${COLUMNS}`,
    [JSON.stringify(req.body)],
  );
  return reply.code(201).send(doc(rows[0]));
});
app.get('/items/:id', async (req, reply) => {
  const { rows } = await pool.query(`SELECT ${COLUMNS} FROM ${table} d WHERE d.id = $1::uuid`, [req.params.id]);
  return rows[0] ? doc(rows[0]) : reply.code(404).send({});
});
app.get('/items', async (req) => {
  const { rows } = await pool.query(
    `SELECT ${COLUMNS} FROM ${table} d WHERE ${score} >= $1::numeric ORDER BY ${score} ASC NULLS LAST, d.id LIMIT $2::int`,
    [req.query.min, 21],
  );
  return { items: rows.slice(0, 20).map(doc), nextCursor: null };
});
// The api's update: one statement merging the patch into the stored data with a new version
// (the api's also checks permissions and builds the change event's before/after in it).
app.patch('/items/:id', async (req, reply) => {
  const { rows } = await pool.query(
    `UPDATE ${table} AS d SET data = d.data || $2::jsonb, version = d.version + 1, updated_at = clock_timestamp() WHERE d.id = $1::uuid RETURNING ${COLUMNS}`,
    [req.params.id, JSON.stringify(req.body)],
  );
  return rows[0] ? doc(rows[0]) : reply.code(404).send({});
});
app.get('/ready', async () => 'ok');

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
const stop = () => void app.close().then(() => pool.end()).finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
