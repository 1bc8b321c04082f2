export * from './spec.js';
export * from './histogram.js';
export * from './samples.js';
export * from './stats/index.js';
