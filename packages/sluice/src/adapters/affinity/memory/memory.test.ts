import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { randomUUID } from 'node:crypto';
import { MemoryAffinityStore } from './memory.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('first assignment wins and later proposals do not change it', () => {
  const s = new MemoryAffinityStore({ sweepIntervalMs: 0 });
  assert.equal(s.setIfAbsent('r:a', 'canary', 60_000), 'canary');
  assert.equal(s.setIfAbsent('r:a', 'baseline', 60_000), 'canary');
  assert.equal(s.get('r:a'), 'canary');
  s.set('r:a', 'baseline', 60_000);
  assert.equal(s.get('r:a'), 'baseline');
  assert.equal(s.get('r:b'), undefined);
});

test('idle entries expire, touched ones stay, and the sweep removes expired ones', () => {
  let t = 1_000_000;
  const s = new MemoryAffinityStore({ sweepIntervalMs: 0, now: () => t });
  s.setIfAbsent('idle', 'canary', 10_000);
  s.setIfAbsent('busy', 'canary', 10_000);
  for (let i = 0; i < 4; i++) {
    t += 4_000;
    s.touch('busy', 10_000);
  }
  assert.equal(s.get('busy'), 'canary');
  assert.equal(s.sweep(), 1);
  assert.equal(s.get('idle'), undefined);
  assert.equal(s.setIfAbsent('idle', 'baseline', 10_000), 'baseline');
});

test('the table is bounded: past maxEntries the least recently used entry goes', () => {
  let t = 0;
  const s = new MemoryAffinityStore({ sweepIntervalMs: 0, maxEntries: 3, now: () => t });
  for (const k of ['a', 'b', 'c']) {
    s.setIfAbsent(k, 'canary', 60_000);
    t += 1_000;
  }
  s.touch('a', 60_000);
  s.setIfAbsent('d', 'canary', 60_000);
  assert.equal(s.size, 3);
  assert.equal(s.get('b'), undefined);
  assert.equal(s.get('a'), 'canary');
});

test('one million sessions cost at most 200 bytes each', () => {
  const n = 1_000_000;
  // Keys built up front so only the table is measured (a UUID-shaped session id per unit).
  const prefix = `rollout-${randomUUID()}:`;
  const keys = Array.from({ length: n }, (_, i) => `${prefix}${i.toString(16).padStart(32, '0')}`);
  // Flatten the concatenated strings now (V8 does it on first character access) so the
  // measurement does not include, or profit from, that.
  let sink = 0;
  for (const k of keys) sink += k.charCodeAt(k.length - 1);
  assert.ok(sink > 0);
  gc();
  const before = process.memoryUsage().heapUsed;
  const s = new MemoryAffinityStore({ sweepIntervalMs: 0 });
  for (let i = 0; i < n; i++) s.setIfAbsent(keys[i] as string, i % 3 === 0 ? 'canary' : 'baseline', 1_800_000);
  gc();
  const perEntry = (process.memoryUsage().heapUsed - before) / n;
  // Keep the keys alive past the measurement, or the collector frees them and skews it.
  assert.equal(keys.length, n);
  console.log(`# affinity memory: ${perEntry.toFixed(1)} bytes per session (${n} sessions)`);
  assert.equal(s.size, n);
  assert.ok(perEntry <= 200, `${perEntry} bytes per session`);
});

test('lookup answers a recorded cohort and refreshes it, without recording anything new', () => {
  let t = 0;
  const s = new MemoryAffinityStore({ sweepIntervalMs: 0, now: () => t });
  assert.equal(s.lookup('k', 10_000), undefined);
  assert.equal(s.size, 0);
  s.setIfAbsent('k', 'canary', 10_000);
  t += 8_000;
  assert.equal(s.lookup('k', 10_000), 'canary');
  t += 8_000;
  assert.equal(s.get('k'), 'canary', 'the lookup refreshed the idle TTL');
  t += 20_000;
  assert.equal(s.lookup('k', 10_000), undefined);
});
