export * from './spec.js';
export * from './histogram.js';
export * from './samples.js';
export * from './stats/index.js';
export * from './compare.js';
export * from './evaluate.js';
/** Simulated rollouts (seeded), for the analysis bench and the statistics' regression tests. */
export * as analysisSimulation from './simulation/index.js';
