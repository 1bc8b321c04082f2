import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Histogram } from './histogram.js';
import { mergeSamples, meanVariance, observe, type MeanSample } from './samples.js';

test('quantiles are within 1% of the exact order statistic', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0.001, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, q) => {
      const h = Histogram.of(xs);
      const sorted = [...xs].sort((a, b) => a - b);
      const exact = sorted[Math.floor(q * (xs.length - 1))]!;
      assert.ok(Math.abs(h.quantile(q) - exact) <= 0.0101 * exact, `${h.quantile(q)} vs ${exact}`);
    }),
  );
});

test('merge equals adding everything to one histogram, through JSON', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0, max: 1e4, noNaN: true })), fc.array(fc.double({ min: 0, max: 1e4, noNaN: true })), (a, b) => {
      const merged = Histogram.from(JSON.parse(JSON.stringify(Histogram.of(a)))).merge(Histogram.of(b).toJSON());
      assert.deepEqual(merged.toJSON(), Histogram.of([...a, ...b]).toJSON());
      assert.equal(merged.count, a.length + b.length);
    }),
  );
});

test('a value just below 1 lands in bucket 0, not -0', () => {
  assert.deepEqual(Histogram.of([0.9801980198019803]).toJSON(), { zero: 0, bins: [[0, 1]] });
  assert.ok(!Object.is(Histogram.of([0.99]).toJSON().bins[0]![0], -0));
});

test('countAbove counts whole buckets above and a share of the threshold bucket', () => {
  const h = Histogram.of([1, 2, 3, 10, 100, 100, 0]);
  assert.equal(h.countAbove(50), 2);
  assert.equal(h.countAbove(-1), 7);
  assert.equal(h.countAbove(0), 6);
  const c = h.countAbove(10);
  assert.ok(c > 2 && c < 3, String(c));
  assert.equal(h.countAbove(1000), 0);
});

test('mean samples merge by addition and give the sample variance', () => {
  const xs = [3, 5, 7, 11, 13];
  const a: MeanSample = { kind: 'mean', n: 0, sum: 0, sumSq: 0 };
  const b: MeanSample = { kind: 'mean', n: 0, sum: 0, sumSq: 0 };
  xs.slice(0, 2).forEach((x) => observe(a, x));
  xs.slice(2).forEach((x) => observe(b, x));
  const m = mergeSamples(a, b) as MeanSample;
  assert.equal(m.n, 5);
  // statistics.variance([3,5,7,11,13]) = 17.2
  assert.ok(Math.abs(meanVariance(m) - 17.2) < 1e-12);
});
