import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareMetric } from './compare.js';
import { Histogram } from './histogram.js';
import type { ResolvedMetric } from './spec.js';

const opts = { alpha: 0.05, minSamples: 30, plannedSamples: 2000 };
const prop = (n: number, x: number) => ({ kind: 'proportion' as const, n, x });
const metric = (better: 'lower' | 'higher', tolerance: ResolvedMetric['tolerance']): ResolvedMetric => ({ name: 'm', source: { event: 'm' }, kind: 'proportion', better, tolerance, dryRun: false });

const counts = fc
  .tuple(fc.integer({ min: 30, max: 20000 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.integer({ min: 30, max: 20000 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }))
  .map(([nb, pb, nc, pc]) => ({ b: prop(nb, Math.round(nb * pb)), c: prop(nc, Math.round(nc * pc)) }));

test('a wider tolerance never turns a pass into a fail, nor creates a fail', () => {
  fc.assert(
    fc.property(counts, fc.double({ min: 0, max: 0.2, noNaN: true }), fc.double({ min: 0, max: 0.2, noNaN: true }), ({ b, c }, t1, t2) => {
      const [lo, hi] = t1 <= t2 ? [t1, t2] : [t2, t1];
      const narrow = compareMetric(metric('lower', { absolute: lo }), b, c, opts).verdict;
      const wide = compareMetric(metric('lower', { absolute: hi }), b, c, opts).verdict;
      if (wide === 'fail') assert.equal(narrow, 'fail');
      if (narrow === 'pass') assert.equal(wide, 'pass');
    }),
  );
});

test('"higher is better" on a share is "lower is better" on its complement', () => {
  fc.assert(
    fc.property(counts, fc.double({ min: 0, max: 0.1, noNaN: true }), ({ b, c }, tol) => {
      const up = compareMetric(metric('higher', { absolute: tol }), b, c, opts);
      const down = compareMetric(metric('lower', { absolute: tol }), prop(b.n, b.n - b.x), prop(c.n, c.n - c.x), opts);
      assert.equal(up.verdict, down.verdict);
      assert.ok(Math.abs(up.lower + down.upper) < 1e-12 && Math.abs(up.upper + down.lower) < 1e-12);
    }),
  );
});

test('the anytime-valid interval contains the fixed-horizon one at the same α', () => {
  fc.assert(
    fc.property(counts, ({ b, c }) => {
      const m = metric('lower', { relative: 0.1 });
      const seq = compareMetric(m, b, c, opts);
      const fixed = compareMetric(m, b, c, { ...opts, method: 'fixed' });
      assert.ok(seq.lower < fixed.lower && seq.upper > fixed.upper);
      assert.equal(seq.estimate, fixed.estimate);
    }),
  );
});

test('below minSamples in either cohort: nodata', () => {
  assert.equal(compareMetric(metric('lower', { absolute: 0 }), prop(29, 3), prop(1000, 900), opts).verdict, 'nodata');
  assert.equal(compareMetric(metric('lower', { absolute: 0 }), prop(1000, 3), undefined, opts).reason, 'missing');
});

test('quantile metrics: a canary whose p95 is 30% higher fails, the same distribution does not', () => {
  const lat: ResolvedMetric = { name: 'latency_p95', source: 'latency_p95', kind: 'quantile', q: 0.95, better: 'lower', tolerance: { relative: 0.1 }, dryRun: false };
  const grid = (scale: number, n: number) => Histogram.of(Array.from({ length: n }, (_, i) => scale * 100 * Math.exp((i / n) * 3)));
  const b = { kind: 'quantile' as const, histogram: grid(1, 20000) };
  const same = compareMetric(lat, b, { kind: 'quantile', histogram: grid(1, 4000) }, opts);
  assert.equal(same.verdict, 'pass');
  const slow = compareMetric(lat, b, { kind: 'quantile', histogram: grid(1.3, 4000) }, opts);
  assert.equal(slow.verdict, 'fail');
  assert.ok(Math.abs(slow.canary / slow.baseline - 1.3) < 0.03);
  // a min-SLO on a quantile counts observations below it: this p95 (~1730) is proven below 1900
  const floor = compareMetric({ ...lat, better: 'higher', slo: { min: 1900 } }, b, { kind: 'quantile', histogram: grid(1, 4000) }, opts);
  assert.equal(floor.slo!.status, 'breached');
});
