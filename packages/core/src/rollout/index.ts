export * from './duration.js';
export * from './plan.js';
export * from './state.js';
export * from './reducer.js';
export * from './decide.js';
export * from './view.js';
export * from './invariant.js';
export * from './progress.js';
