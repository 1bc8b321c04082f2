export * from './schema-compat.js';
export * from './fields.js';
export * from './policy.js';
export * from './breaking.js';
export * from './classify.js';
export * from './release-diff.js';
