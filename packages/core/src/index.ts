export * from './errors/errors.js';
export * from './canonical/canonical-json.js';
export * from './canonical/digest.js';
export * from './release/manifest.js';
export * from './release/source.js';
export * from './release/components.js';
export * from './release/tree.js';
export * from './routing/config.js';
export * from './signing/dsse.js';
export * from './assignment/index.js';
export * from './analysis/index.js';

export * from \x27./rollout/index.js\x27;
