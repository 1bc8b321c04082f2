/**
 * Affinity in Redis, shared by every gateway (DESIGN.md "Scale"). `setIfAbsent` is one atomic
 * round trip (a Lua script: GET, else SET PX; refresh the TTL either way), so two gateways racing
 * on a new session agree on one cohort.
 *
 * If Redis cannot be reached the store degrades instead of failing requests: `setIfAbsent`
 * answers the proposed cohort (the caller's deterministic hash), `health()` reports `degraded`,
 * and ioredis keeps reconnecting; the store is healthy again as soon as a command succeeds.
 */
import { Redis } from 'ioredis';
import type { AffinityHealth, AffinityStore } from '../affinity.js';

export interface RedisAffinityOptions {
  url: string;
  /** Prepended to every key, e.g. `sluice:aff:`. */
  keyPrefix?: string;
  /** A command slower than this counts as a failure (ms). Default 250. */
  commandTimeoutMs?: number;
  /** Called when the store degrades or recovers. */
  onHealthChange?: (h: AffinityHealth) => void;
}

// KEYS[1] key; ARGV[1] proposed cohort; ARGV[2] ttl ms. Returns the winner.
const GET_OR_SET = `
local v = redis.call('GET', KEYS[1])
if v then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return v
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
`;

type RedisWithScript = Redis & { sluiceGetOrSet(key: string, cohort: string, ttlMs: number): Promise<string> };

export class RedisAffinityStore implements AffinityStore {
  private readonly redis: RedisWithScript;
  private readonly prefix: string;
  private degraded = true;
  private reason: string | undefined = 'connecting';
  private readonly onHealthChange: ((h: AffinityHealth) => void) | undefined;

  constructor(opts: RedisAffinityOptions) {
    this.prefix = opts.keyPrefix ?? 'sluice:affinity:';
    this.onHealthChange = opts.onHealthChange;
    this.redis = new Redis(opts.url, {
      // Fail fast while disconnected: a request must never wait for Redis to come back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs ?? 250,
      connectTimeout: 1_000,
      retryStrategy: (times) => Math.min(100 * times, 1_000),
      lazyConnect: false,
    }) as RedisWithScript;
    this.redis.defineCommand('sluiceGetOrSet', { numberOfKeys: 1, lua: GET_OR_SET });
    this.redis.on('ready', () => this.mark(false));
    this.redis.on('error', (err: Error) => this.mark(true, err.message));
    this.redis.on('close', () => this.mark(true, 'connection closed'));
  }

  /** Resolves once connected (or rejects after `timeoutMs`): for startup checks and tests. */
  async ready(timeoutMs = 2_000): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.redis.off('ready', ok);
        reject(new Error(`Redis not reachable within ${timeoutMs} ms: ${this.reason ?? ''}`));
      }, timeoutMs);
      const ok = () => {
        clearTimeout(t);
        resolve();
      };
      this.redis.once('ready', ok);
    });
  }

  async get(key: string): Promise<string | undefined> {
    try {
      const v = await this.redis.get(this.prefix + key);
      this.mark(false);
      return v ?? undefined;
    } catch (err) {
      this.mark(true, (err as Error).message);
      return undefined;
    }
  }

  async setIfAbsent(key: string, cohort: string, ttlMs: number): Promise<string> {
    try {
      const v = await this.redis.sluiceGetOrSet(this.prefix + key, cohort, Math.max(1, Math.round(ttlMs)));
      this.mark(false);
      return v;
    } catch (err) {
      // Deterministic fallback: the caller proposed the cohort its hash gives.
      this.mark(true, (err as Error).message);
      return cohort;
    }
  }

  async set(key: string, cohort: string, ttlMs: number): Promise<void> {
    try {
      await this.redis.set(this.prefix + key, cohort, 'PX', Math.max(1, Math.round(ttlMs)));
      this.mark(false);
    } catch (err) {
      this.mark(true, (err as Error).message);
    }
  }

  async touch(key: string, ttlMs: number): Promise<void> {
    try {
      await this.redis.pexpire(this.prefix + key, Math.max(1, Math.round(ttlMs)));
    } catch (err) {
      this.mark(true, (err as Error).message);
    }
  }

  health(): AffinityHealth {
    return this.degraded ? { backend: 'redis', degraded: true, reason: this.reason ?? 'unreachable' } : { backend: 'redis', degraded: false };
  }

  async close(): Promise<void> {
    this.redis.disconnect(false);
  }

  private mark(degraded: boolean, reason?: string): void {
    if (degraded === this.degraded && (!degraded || reason === this.reason)) return;
    const changed = degraded !== this.degraded;
    this.degraded = degraded;
    this.reason = degraded ? reason : undefined;
    if (changed) this.onHealthChange?.(this.health());
  }
}
