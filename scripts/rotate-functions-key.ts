import { loadConfig } from '#libs/config';
import { createPgPool } from '#libs/database';
import { rotateFunctionSecrets, SecretBox } from '#libs/functions';

// Re-encrypts functions' secrets after FUNCTIONS_SECRET_KEY changes (ops/rotate-secrets.sh):
//   OLD_FUNCTIONS_SECRET_KEY=<previous key> FUNCTIONS_SECRET_KEY=<new key> node dist/scripts/rotate-functions-key.js
// When no FUNCTIONS_SECRET_KEY was set before, the previous key is the JWT_SECRET then in use.
const config = loadConfig();
const oldKey = process.env.OLD_FUNCTIONS_SECRET_KEY;
if (!config.FUNCTIONS_SECRET_KEY) fail('Set FUNCTIONS_SECRET_KEY to the new key (at least 32 characters).');
if (!oldKey) fail('Set OLD_FUNCTIONS_SECRET_KEY to the previous key (or to the JWT_SECRET used when none was set).');
if (oldKey === config.FUNCTIONS_SECRET_KEY) fail('OLD_FUNCTIONS_SECRET_KEY and FUNCTIONS_SECRET_KEY are the same.');

const pool = createPgPool(config);
try {
  const result = await rotateFunctionSecrets(pool, new SecretBox(oldKey), new SecretBox(config.FUNCTIONS_SECRET_KEY));
  process.stdout.write(`Re-encrypted the secrets of ${result.resealed} function(s); ${result.alreadyNew} already used the new key.\n`);
} catch (err) {
  process.stderr.write(`Rotation failed, nothing was changed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await pool.end();
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
