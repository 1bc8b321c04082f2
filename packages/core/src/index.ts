export * from './errors/errors.js';
export * from './canonical/canonical-json.js';
export * from './canonical/digest.js';
export * from './release/manifest.js';
export * from './routing/config.js';
export * from './signing/dsse.js';
export * from './assignment/index.js';
