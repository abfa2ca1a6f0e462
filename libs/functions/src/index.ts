export { SecretBox } from './secrets.js';
export { uuidFromName } from './ids.js';
export * from './types.js';
export { enqueueRun, enqueueRuns, insertRun, type NewRun, resultOf, type RunJobSpec, type RunResultFields, type RunRecord } from './runs.js';
export { type AttemptStatus, attemptVerdict, type AttemptVerdict } from './run-status.js';
export { rotateFunctionSecrets, type RotationResult } from './rotate-secrets.js';
export { STORABLE_MAX_DEPTH, storableJson, storableString } from './storable.js';
export { mapStack, parseSourceMap, type SourceMap } from './source-map.js';
export { mintRunToken, runTokenSecret, verifyRunToken, type RunTokenClaims } from './run-token.js';
