export * from './rollout.js';
export * from './prng.js';
