import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { csRadius, differenceCs, rhoFor } from './confidence-sequence.js';
import { relativeLiftCs } from './relative-lift.js';
import { alwaysValidP, msprtInterval, msprtLikelihoodInverse } from './msprt.js';
import { normalQuantile } from './normal.js';

const prop = (n: number, x: number) => ({ n, mean: x / n, variance: (x / n) * (1 - x / n) });

test("GrowthBook's published sequential case: 1396/3000 vs 2422/3461, tuning 5000 → (0.40098, 0.60675)", () => {
  const ci = relativeLiftCs(prop(3000, 1396), prop(3461, 2422), 0.05, 5000);
  assert.equal(ci.lower.toFixed(5), '0.40098');
  assert.equal(ci.upper.toFixed(5), '0.60675');
  // Same formulas evaluated independently with NumPy on the build machine.
  assert.ok(Math.abs(ci.lower - 0.4009784966859415) < 1e-12);
  assert.ok(Math.abs(ci.upper - 0.6067482066783576) < 1e-12);
  assert.ok(Math.abs(rhoFor(5000, 0.05) - 0.03984006677137368) < 1e-15);
});

test('difference CS on the same data matches the NumPy evaluation', () => {
  const ci = differenceCs(prop(3000, 1396), prop(3461, 2422), 0.05, 5000);
  assert.ok(Math.abs(ci.lower - 0.19804879693925878) < 1e-12);
  assert.ok(Math.abs(ci.upper - 0.2708800290262618) < 1e-12);
});

test('the CS is tightest near the planned sample size and always wider than the fixed-horizon interval', () => {
  const alpha = 0.05;
  const rho = rhoFor(1000, alpha);
  const ratio = (t: number) => csRadius(t, 1, alpha, rho) / (normalQuantile(1 - alpha / 2) / Math.sqrt(t));
  const ratios = [100, 300, 1000, 3000, 10000].map(ratio);
  for (const r of ratios) assert.ok(r > 1);
  assert.ok(ratios[2]! < ratios[0]! && ratios[2]! < ratios[4]!, ratios.join());
  // the ratio is ~1.55 at α = 0.05 at its best (a known figure for the normal mixture)
  assert.ok(ratios[2]! > 1.4 && ratios[2]! < 1.7);
});

test('mSPRT likelihood ratio matches SciPy numerical integration over the mixing prior', () => {
  // 1/Λ computed with scipy.integrate.quad of N(Δ̂; θ, V)/N(Δ̂; 0, V) against N(θ; 0, τ²).
  const cases: [number, number, number, number][] = [
    [0.03, 0.0003, 0.001, 0.6566017429241664],
    [0.01, 0.0001, 0.0004, 1.498881189616478],
    [-0.5, 0.04, 0.01, 0.598440469951053],
    [0.0, 0.01, 0.05, 2.449489742783178],
  ];
  for (const [d, v, tau2, ref] of cases) {
    const p = msprtLikelihoodInverse(d, v, tau2);
    assert.ok(Math.abs(p - Math.min(1, ref)) < 1e-12, `${p} vs ${ref}`);
  }
});

test('always-valid p is a running minimum', () => {
  let p = 1;
  const ps = [0.0, 0.05, 0.2, 0.01].map((d) => (p = alwaysValidP(p, d, 0.001, 0.002)));
  for (let i = 1; i < ps.length; i++) assert.ok(ps[i]! <= ps[i - 1]!);
  assert.equal(ps[3], ps[2]);
});

test('with τ² = σ̂²ρ², the mSPRT interval is the asymptotic CS and p < α exactly when the CS excludes 0', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 20, max: 50_000 }),
      fc.integer({ min: 20, max: 50_000 }),
      fc.double({ min: 0.01, max: 0.99, noNaN: true }),
      fc.double({ min: 0.01, max: 0.99, noNaN: true }),
      fc.constantFrom(0.01, 0.05, 0.1),
      (nb, nc, pb, pc, alpha) => {
        const b = { n: nb, mean: pb, variance: pb * (1 - pb) };
        const c = { n: nc, mean: pc, variance: pc * (1 - pc) };
        const cs = differenceCs(b, c, alpha, 2000);
        const rho = rhoFor(2000, alpha);
        const v = c.variance / nc + b.variance / nb;
        const tau2 = cs.sigma * cs.sigma * rho * rho;
        const m = msprtInterval(cs.estimate, v, tau2, alpha);
        assert.ok(Math.abs(m.lower - cs.lower) < 1e-9 && Math.abs(m.upper - cs.upper) < 1e-9);
        const p = msprtLikelihoodInverse(cs.estimate, v, tau2);
        const excludes = cs.lower > 0 || cs.upper < 0;
        if (Math.abs(Math.abs(cs.estimate) - cs.radius) > 1e-9) assert.equal(p < alpha, excludes);
      },
    ),
  );
});
