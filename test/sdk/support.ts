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
