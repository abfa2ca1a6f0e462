import { hash, verify } from '@node-rs/argon2';

/** argon2id with OWASP's baseline parameters (19 MiB, 2 passes, 1 lane). */
export const PASSWORD_HASH_PARAMS = {
  algorithm: 2, // Algorithm.Argon2id (a const enum, which isolatedModules cannot inline)
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, PASSWORD_HASH_PARAMS);
}

// Verified against when the account does not exist, so a login costs the same either way.
let dummyHash: Promise<string> | undefined;

/** True when `password` matches `storedHash`; with no hash, does the same work and says false. */
export async function verifyPassword(storedHash: string | null | undefined, password: string): Promise<boolean> {
  if (!storedHash) {
    dummyHash ??= hashPassword('not-a-real-password-for-timing');
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  return verify(storedHash, password).catch(() => false);
}
