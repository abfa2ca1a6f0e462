// The rate limiter's own work per request, old against new (docs/decisions.md, "Gateway
// cost"): a tight loop over what the gateway's onRequest hook and the AuthGuard do for the
// limit (identity, count, RateLimit headers; for a user, finding the token's claims), in this
// tree's build and in another tree's (`node bench/gateway-micro.mjs /path/to/other/tree`),
// alternating, on the main thread's CPU time from the scheduler. Needs both trees built and
// Redis (the limiter's first count of each caller goes there). Then what the response
// headers cost Node to write: none of the gateway's, its four RateLimit-* headers (and Vary,
// an echoed origin), or the combined draft `RateLimit` + `RateLimit-Policy` pair instead.
import { readFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { JwtService } from '@nestjs/jwt';
import { Redis } from 'ioredis';
import { appEnv, machine, REDIS_URL, root, runSuffix, writeResults } from './lib.mjs';

const other = process.argv[2] ? resolve(process.argv[2]) : undefined;
/** How the other tree is named in the results (its commit, say). */
const otherLabel = process.env.BENCH_GATEWAY_MICRO_LABEL ?? other;
const ITERATIONS = Number(process.env.BENCH_GATEWAY_MICRO_ITERATIONS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_GATEWAY_MICRO_ROUNDS ?? 30);
const threadNanos = () => {
  const stat = readFileSync('/proc/thread-self/schedstat', 'utf8');
  return Number(stat.slice(0, stat.indexOf(' ')));
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const BEARER = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/;

/** A stand-in reply that keeps headers the way Fastify's does (lower-cased names). */
function fakeReply() {
  return {
    h: {},
    header(k, v) {
      this.h[k.toLowerCase()] = v;
      return this;
    },
    headers(o) {
      for (const k of Object.keys(o)) this.header(k, o[k]);
      return this;
    },
  };
}

async function load(tree, redis, prefix) {
  const mod = (p) => import(pathToFileURL(join(tree, 'dist/apps/api/src', p)).href);
  const { parseConfig } = await import(pathToFileURL(join(tree, 'dist/libs/config/src/index.js')).href);
  const { GatewayRateLimiter } = await mod('gateway/rate-limit.service.js');
  const { TokenService } = await mod('auth/token.service.js');
  const plugin = await mod('gateway/gateway.plugin.js');
  const config = parseConfig({ ...appEnv('postgresql://unused/unused', prefix), PORT: '0' });
  const tokens = new TokenService(new JwtService({}), config);
  const limiter = new GatewayRateLimiter(redis, config, tokens, { findUsableByHash: async () => null });
  const token = await tokens.signAccess({ sub: '0b9f4a59-3c1e-4c43-9a5e-9a1b8b1c2d3e', sid: '1b9f4a59-3c1e-4c43-9a5e-9a1b8b1c2d3e', email: 'a@example.test', roles: [] });
  const sync = typeof plugin.setRateLimitHeaders === 'function';
  /** One request's limit work, as the tree's hook and guard do it. */
  const step = sync
    ? (request) => {
        const decision = limiter.consume('reads', request);
        if (decision instanceof Promise) return decision; // a lookup or Redis first
        if (decision) plugin.setRateLimitHeaders(fakeReply(), decision);
        // The guard: takes the limiter's verification when it is for this header.
        const v = request.verifiedBearer;
        if (request.headers.authorization !== undefined && !(v && v.authorization === request.headers.authorization)) throw new Error('not handed over');
        return undefined;
      }
    : async (request) => {
        const decision = await limiter.consume('reads', request);
        if (decision) {
          void fakeReply().headers({
            'ratelimit-limit': String(decision.limit),
            'ratelimit-remaining': String(decision.remaining),
            'ratelimit-reset': String(decision.resetSeconds),
            'ratelimit-policy': `${decision.limit};w=${decision.windowSeconds}`,
          });
        }
        // The guard verifies the token again (a cache lookup since the first time).
        const a = request.headers.authorization;
        if (a !== undefined) await tokens.verifyAccess(BEARER.exec(a)[1]);
      };
  return { limiter, token, step, sync };
}

const suffix = runSuffix();
const redis = new Redis(REDIS_URL);
const trees = { this: await load(root, redis, `bench_gwmicro_a_${suffix}`) };
if (other) trees.other = await load(other, redis, `bench_gwmicro_b_${suffix}`);

async function run(tree, kind, n) {
  const request = () => ({ headers: kind === 'user' ? { authorization: `Bearer ${tree.token}` } : {}, ip: '127.0.0.1', verifiedBearer: null });
  // First of the window: counted in Redis (awaited), then in memory.
  await tree.step(request());
  const start = threadNanos();
  for (let i = 0; i < n; i++) {
    const p = tree.step(request());
    if (p) await p;
  }
  return (threadNanos() - start) / n;
}

const result = {};
for (const kind of ['anonymous', 'user']) {
  for (const tree of Object.values(trees)) for (let i = 0; i < 3; i++) await run(tree, kind, ITERATIONS);
  const samples = Object.fromEntries(Object.keys(trees).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [name, tree] of r % 2 ? Object.entries(trees).reverse() : Object.entries(trees)) samples[name].push(await run(tree, kind, ITERATIONS));
  result[kind] = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, { nsPerRequest: Math.round(median(xs)), min: Math.round(Math.min(...xs)), max: Math.round(Math.max(...xs)), synchronous: trees[k].sync }]));
}
// Header serialisation (ServerResponse.writeHead), per response.
const common = {
  'x-request-id': '08873f3c-0ec3-4f8e-a585-fb87ad2d7045',
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'x-request-id, etag, last-modified, location, content-range, content-disposition, accept-ranges, retry-after, ratelimit, ratelimit-policy, ratelimit-limit, ratelimit-remaining, ratelimit-reset',
  'cache-control': 'private, no-cache',
  'content-type': 'application/json; charset=utf-8',
  etag: '"1"',
  'content-length': '173',
};
let remaining = 999_999_000;
const headerSets = {
  off: () => ({ ...common }),
  separate: () => ({ ...common, 'access-control-allow-origin': 'https://app.example.com', vary: 'Origin', 'ratelimit-limit': '999999999', 'ratelimit-remaining': String(remaining--), 'ratelimit-reset': String(60), 'ratelimit-policy': '999999999;w=60' }),
  combined: () => ({ ...common, 'access-control-allow-origin': 'https://app.example.com', vary: 'Origin', ratelimit: `limit=999999999, remaining=${remaining--}, reset=60`, 'ratelimit-policy': '999999999;w=60' }),
};
const incoming = new IncomingMessage(new Socket());
const writeHeads = (make, n) => {
  const start = threadNanos();
  for (let i = 0; i < n; i++) new ServerResponse(incoming).writeHead(200, make());
  return (threadNanos() - start) / n;
};
const headerSamples = { off: [], separate: [], combined: [] };
for (let r = 0; r < ROUNDS + 3; r++) for (const [k, make] of Object.entries(headerSets)) { const ns = writeHeads(make, 20_000); if (r >= 3) headerSamples[k].push(ns); }
const headers = Object.fromEntries(Object.entries(headerSamples).map(([k, xs]) => [k, Math.round(median(xs))]));
const report = { date: new Date().toISOString(), machine: machine(), iterations: ITERATIONS, rounds: ROUNDS, other: otherLabel, limiter: result, writeHeadNs: headers };
const us = (ns) => (ns / 1000).toFixed(2);
const limiterRow = (kind) =>
  `| ${kind} | ${us(result[kind].this.nsPerRequest)} µs (${us(result[kind].this.min)} … ${us(result[kind].this.max)}) |` +
  (other ? ` ${us(result[kind].other.nsPerRequest)} µs (${us(result[kind].other.min)} … ${us(result[kind].other.max)}) |` : '');
const md = [
  '# Gateway micro-benchmark',
  '',
  `Run ${report.date} by \`node bench/gateway-micro.mjs${other ? ' <other tree>' : ''}\` on ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node} (load average ${report.machine.loadAverage.join(' / ')}). Main-thread CPU time (scheduler, exact) per request, median of ${ROUNDS} rounds of ${ITERATIONS} (min … max), the trees alternating.`,
  '',
  '## The rate limiter\'s work per request',
  '',
  'Identity (address, or the user of a bearer token already verified once), the count far from the limit, the four RateLimit headers; for a user also what the AuthGuard then does to find the token\'s claims.',
  '',
  `| caller | this tree |${other ? ` ${otherLabel} |` : ''}`,
  `|---|---|${other ? '---|' : ''}`,
  limiterRow('anonymous'),
  limiterRow('user'),
  '',
  '## Response headers (Node\'s writeHead, per response)',
  '',
  '| headers | ns |',
  '|---|---|',
  `| without the gateway's (allow-origin \`*\`, expose list) | ${headers.off} |`,
  `| echoed origin, \`Vary\`, \`RateLimit-Limit/-Remaining/-Reset/-Policy\` | ${headers.separate} |`,
  `| echoed origin, \`Vary\`, combined \`RateLimit\` + \`RateLimit-Policy\` | ${headers.combined} |`,
  '',
].join('\n');
await writeResults('gateway-micro', report, md);
process.stdout.write(md);
for (const tree of Object.values(trees)) await tree.limiter.onModuleDestroy();
redis.disconnect();
process.exit(0);
