export { RedisAffinityStore, type RedisAffinityOptions } from './redis.js';
