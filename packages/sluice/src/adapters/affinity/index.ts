export type { AffinityHealth, AffinityStore, MaybePromise } from './affinity.js';
export { isPromise } from './affinity.js';
export { MemoryAffinityStore, type MemoryAffinityOptions } from './memory/index.js';
export { RedisAffinityStore, type RedisAffinityOptions } from './redis/index.js';
