// The SDK, from its sources in this repository (the build bundles it into the CLI).
export * from '../../sdk/src/index.js';
