export { MemoryAffinityStore, cyrb53, type MemoryAffinityOptions } from './memory.js';
