import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { type BaasClient, type ClientOptions, createClient } from '../../packages/sdk/src/index.js';
import { OpenApiContract } from '../support/openapi-contract.js';
import { SERVICE_KEY } from '../support/config.js';

/**
 * Clients of the SDK for tests: every answer they get is checked against docs/openapi.json
 * (status declared, body matching its schema). `expectContractKept()` at the end of a file.
 */
export function sdkClients(url: string) {
  const contract = new OpenApiContract();
  const checkedFetch = contract.fetch();
  const client = (options: Omit<ClientOptions, 'url'> = {}): BaasClient => createClient({ url, fetch: checkedFetch, ...options });
  return {
    url,
    contract,
    /** A client as an app has it: no key, a session after sign-in. */
    app: client,
    /** A client with the service key (servers, scripts, the dashboard). */
    service: client({ apiKey: SERVICE_KEY }),
    expectContractKept() {
      expect(contract.violations).toEqual([]);
      expect(contract.seen.size).toBeGreaterThan(0);
    },
  };
}

export const PASSWORD = 'correct horse battery staple';
export const uniqueEmail = (label: string) => `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.test`;

/**
 * Builds packages/sdk/dist when it is missing or older than its sources (`npm test` builds it
 * first; a targeted run of one file may not have): the child-process and browser tests load
 * the built SDK, as users do.
 */
export async function ensureSdkBuilt(): Promise<string> {
  const dist = resolve('packages/sdk/dist/index.js');
  const sources = readdirSync(resolve('packages/sdk/src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const newest = Math.max(...sources.map((f) => statSync(resolve('packages/sdk/src', f)).mtimeMs));
  if (!existsSync(dist) || statSync(dist).mtimeMs < newest) {
    await promisify(execFile)(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', 'packages/sdk/tsconfig.json']);
  }
  return dist;
}
