// Started by bench/gateway.mjs, not by hand: two built apis in ONE Node process, the same
// code with two configurations, "off" and "on" (BENCH_DUAL_SIDES: JSON of each side's
// settings over this process's environment; BENCH_DUAL_PORTS: JSON of each side's port).
//
// Why one process: two identical api processes differ in CPU per request by up to ±20 % on
// this machine (memory layout, core placement), more than the 5 % being judged. Inside one
// process both sides run the same compiled code, heap and core, so a pair of adjacent runs
// (one per side) differs by what the configuration adds: the gateway's hooks.
import { parseConfig } from '../dist/libs/config/src/index.js';
import { createApp } from '../dist/apps/api/src/app.factory.js';

const sides = JSON.parse(process.env.BENCH_DUAL_SIDES ?? '{}');
const ports = JSON.parse(process.env.BENCH_DUAL_PORTS ?? '{}');
for (const [side, overrides] of Object.entries(sides)) {
  const config = parseConfig({ ...process.env, ...overrides, PORT: String(ports[side]) });
  const app = await createApp(config);
  await app.listen({ port: config.PORT, host: '127.0.0.1' });
}

