/**
 * Session affinity: where a unit's first assignment is remembered so it never changes release
 * mid-conversation (DESIGN.md "Assignment"). One small interface, one folder per backend.
 *
 * Methods may answer synchronously (the memory backend does, to keep the gateway's hot path free
 * of promise churn) or with a promise (Redis); callers handle both with `isPromise`.
 */
export type MaybePromise<T> = T | Promise<T>;

export interface AffinityHealth {
  backend: 'memory' | 'redis';
  /** True when the backend cannot be reached and assignments fall back to the deterministic hash. */
  degraded: boolean;
  reason?: string;
  /** Entries held (memory backend only). */
  size?: number;
}

export interface AffinityStore {
  /** The cohort recorded for `key`, if any (does not refresh its TTL). */
  get(key: string): MaybePromise<string | undefined>;
  /**
   * Record `cohort` for `key` unless one is recorded already; answer the recorded value (the
   * winner) and refresh the idle TTL either way. Two gateways racing on one key get one answer.
   */
  setIfAbsent(key: string, cohort: string, ttlMs: number): MaybePromise<string>;
  /** Overwrite the recorded cohort: used when a blue-green session migrates at a safe boundary. */
  set(key: string, cohort: string, ttlMs: number): MaybePromise<void>;
  /** Refresh the idle TTL of `key` without changing it. */
  touch(key: string, ttlMs: number): MaybePromise<void>;
  /**
   * Optional fast path for stores that answer without I/O: the recorded cohort with its TTL
   * refreshed (like `setIfAbsent` when one is recorded), or undefined. Lets the gateway skip
   * hashing a unit it has seen before.
   */
  lookup?(key: string, ttlMs: number): string | undefined;
  health(): AffinityHealth;
  close(): Promise<void>;
}

export function isPromise<T>(v: MaybePromise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}
