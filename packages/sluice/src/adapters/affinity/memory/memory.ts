/**
 * In-process affinity table, sized for millions of sessions.
 *
 * Compact by construction (measured ~90 bytes per session, see memory.test.ts):
 * - keys are a 53-bit hash of the key string (cyrb53), so a session costs one heap number
 *   whatever the length of the client's session id; two distinct sessions share an entry with
 *   probability ~n²/2^54 (about 1 in 18,000 for a million live sessions), and sharing only means
 *   they get the same cohort;
 * - values are small integers: (seconds since the store started · 256) + (TTL slot · 16) + cohort
 *   slot, which V8 keeps inline (no allocation) for 97 days of uptime, and correctly as heap
 *   numbers after that.
 * Idle TTL: a touch re-inserts the entry at most once per second, so the Map's insertion order is
 * the order of last use; a sweep deletes expired entries from the front. The table is bounded:
 * when full, the least recently used entry goes first.
 */
import type { AffinityHealth, AffinityStore } from '../affinity.js';

export interface MemoryAffinityOptions {
  /** Most entries held; the least recently used is dropped past it. Default 2,000,000. */
  maxEntries?: number;
  /** How often expired entries are swept, in ms. Default 5,000. */
  sweepIntervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

const COHORT_SLOTS = 16;
const TTL_SLOTS = 16;
const SLOT_SPAN = COHORT_SLOTS * TTL_SLOTS;

export class MemoryAffinityStore implements AffinityStore {
  private readonly table = new Map<number, number>();
  private readonly cohorts: string[] = [];
  private readonly ttls: number[] = [];
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly start: number;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(opts: MemoryAffinityOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 2_000_000;
    this.now = opts.now ?? Date.now;
    this.start = this.now();
    const every = opts.sweepIntervalMs ?? 5_000;
    if (every > 0) {
      this.timer = setInterval(() => this.sweep(), every);
      this.timer.unref();
    }
  }

  get(key: string): string | undefined {
    const h = cyrb53(key);
    const v = this.table.get(h);
    if (v === undefined) return undefined;
    if (this.expired(v, this.seconds())) {
      this.table.delete(h);
      return undefined;
    }
    return this.cohorts[v % COHORT_SLOTS];
  }

  lookup(key: string, _ttlMs: number): string | undefined {
    const h = cyrb53(key);
    const v = this.table.get(h);
    if (v === undefined) return undefined;
    const now = this.seconds();
    if (this.expired(v, now)) return undefined;
    if (Math.floor(v / SLOT_SPAN) !== now) {
      this.table.delete(h);
      this.table.set(h, now * SLOT_SPAN + (v % SLOT_SPAN));
    }
    return this.cohorts[v % COHORT_SLOTS];
  }

  setIfAbsent(key: string, cohort: string, ttlMs: number): string {
    const h = cyrb53(key);
    const now = this.seconds();
    const v = this.table.get(h);
    if (v !== undefined && !this.expired(v, now)) {
      if (Math.floor(v / SLOT_SPAN) !== now) {
        // Move to the back so insertion order stays the order of last use.
        this.table.delete(h);
        this.table.set(h, now * SLOT_SPAN + (v % SLOT_SPAN));
      }
      return this.cohorts[v % COHORT_SLOTS] as string;
    }
    if (v !== undefined) this.table.delete(h);
    this.insert(h, now, ttlMs, cohort);
    return cohort;
  }

  set(key: string, cohort: string, ttlMs: number): void {
    const h = cyrb53(key);
    this.table.delete(h);
    this.insert(h, this.seconds(), ttlMs, cohort);
  }

  touch(key: string, _ttlMs: number): void {
    const h = cyrb53(key);
    const v = this.table.get(h);
    const now = this.seconds();
    if (v === undefined || this.expired(v, now) || Math.floor(v / SLOT_SPAN) === now) return;
    this.table.delete(h);
    this.table.set(h, now * SLOT_SPAN + (v % SLOT_SPAN));
  }

  /** Delete expired entries from the least recently used end; returns how many went. */
  sweep(): number {
    const now = this.seconds();
    let removed = 0;
    for (const [h, v] of this.table) {
      if (!this.expired(v, now)) break;
      this.table.delete(h);
      removed++;
    }
    return removed;
  }

  get size(): number {
    return this.table.size;
  }

  health(): AffinityHealth {
    return { backend: 'memory', degraded: false, size: this.table.size };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.table.clear();
  }

  private insert(h: number, now: number, ttlMs: number, cohort: string): void {
    this.table.set(h, now * SLOT_SPAN + this.ttlSlot(ttlMs) * COHORT_SLOTS + this.cohortSlot(cohort));
    if (this.table.size > this.maxEntries) {
      const oldest = this.table.keys().next();
      if (!oldest.done) this.table.delete(oldest.value);
    }
  }

  private expired(v: number, now: number): boolean {
    const ttl = this.ttls[Math.floor(v / COHORT_SLOTS) % TTL_SLOTS] as number;
    return now - Math.floor(v / SLOT_SPAN) > ttl;
  }

  private seconds(): number {
    return Math.floor((this.now() - this.start) / 1000);
  }

  private cohortSlot(cohort: string): number {
    let i = this.cohorts.indexOf(cohort);
    if (i < 0) {
      if (this.cohorts.length >= COHORT_SLOTS) throw new Error(`affinity: more than ${COHORT_SLOTS} distinct cohort values`);
      i = this.cohorts.push(cohort) - 1;
    }
    return i;
  }

  private ttlSlot(ttlMs: number): number {
    const s = Math.max(1, Math.ceil(ttlMs / 1000));
    let i = this.ttls.indexOf(s);
    if (i < 0) {
      // More distinct TTLs than slots is unusual (one per agent route); reuse the longest so
      // entries are kept too long rather than dropped early.
      if (this.ttls.length >= TTL_SLOTS) return this.ttls.indexOf(Math.max(...this.ttls));
      i = this.ttls.push(s) - 1;
    }
    return i;
  }
}

/** cyrb53 (bryc, public domain): a fast 53-bit string hash with good dispersion. */
export function cyrb53(str: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
