export * from './normal.js';
export * from './confidence-sequence.js';
export * from './relative-lift.js';
export * from './msprt.js';
export * from './srm.js';
export * from './gamma.js';
