import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalCdf, normalQuantile, normalSf, twoMeanZTest, twoProportionZTest } from './normal.js';

// Reference values: scipy.stats.norm.ppf / norm.sf, SciPy 1.17.1 on the build machine.
const PPF: [number, number][] = [
  [1e-300, -37.0470962993612],
  [1e-20, -9.262340089798409],
  [1e-10, -6.361340902404056],
  [1e-5, -4.264890793922825],
  [0.001, -3.090232306167813],
  [0.025, -1.9599639845400545],
  [0.05, -1.6448536269514729],
  [0.075, -1.4395314709384563],
  [0.3, -0.5244005127080409],
  [0.5, 0],
  [0.7, 0.5244005127080407],
  [0.925, 1.4395314709384563],
  [0.975, 1.959963984540054],
  [0.999, 3.090232306167813],
  [0.9999999999, 6.361340889697422],
];

const SF: [number, number][] = [
  [-38, 1.0],
  [-10, 1.0],
  [-5, 0.9999997133484281],
  [-3.5, 0.9997673709209645],
  [-3, 0.9986501019683699],
  [-2.5, 0.9937903346742238],
  [-1.96, 0.9750021048517795],
  [-1, 0.8413447460685429],
  [-0.5, 0.6914624612740131],
  [0, 0.5],
  [0.3, 0.3820885778110474],
  [1, 0.15865525393145707],
  [1.6448536269514722, 0.050000000000000044],
  [2.9, 0.0018658133003840375],
  [3, 0.0013498980316300933],
  [3.01, 0.0013062384487694675],
  [4, 3.167124183311986e-5],
  [6, 9.865876450376946e-10],
  [8.5, 9.47953482220325e-18],
  [12, 1.776482112077653e-33],
  [20, 2.7536241186061556e-89],
  [37, 5.7255712225239266e-300],
];

test('normal quantile (AS 241) matches SciPy to 1e-9', () => {
  for (const [p, ref] of PPF) assert.ok(Math.abs(normalQuantile(p) - ref) <= 1e-9 * Math.max(1, Math.abs(ref)), `ppf(${p}) = ${normalQuantile(p)}, SciPy ${ref}`);
  assert.equal(normalQuantile(0), -Infinity);
  assert.equal(normalQuantile(1), Infinity);
  assert.ok(Number.isNaN(normalQuantile(1.5)));
});

test('normal tail matches SciPy to 1e-12 relative, including the far tail', () => {
  for (const [x, ref] of SF) assert.ok(Math.abs(normalSf(x) - ref) <= 1e-12 * ref, `sf(${x}) = ${normalSf(x)}, SciPy ${ref}`);
  assert.ok(Math.abs(normalCdf(1.959963984540054) - 0.975) < 1e-15);
});

test('quantile and cdf invert each other', () => {
  for (let p = 0.0005; p < 1; p += 0.0137) assert.ok(Math.abs(normalCdf(normalQuantile(p)) - p) < 1e-14 * Math.max(1, p / (1 - p)));
});

test('two-proportion z-test matches the textbook formulas evaluated with SciPy', () => {
  const a = twoProportionZTest({ n: 3000, x: 1396 }, { n: 3461, x: 2422 });
  assert.ok(Math.abs(a.z - 19.117085774630755) < 1e-9);
  assert.ok(Math.abs(a.pValue - 1.819963887329055e-81) < 1e-9 * 1.8e-81);
  assert.ok(Math.abs(a.lower - 0.21097490006269598) < 1e-12);
  assert.ok(Math.abs(a.upper - 0.25795392590282457) < 1e-12);
  const b = twoProportionZTest({ n: 1900, x: 152 }, { n: 100, x: 22 });
  assert.ok(Math.abs(b.z - 4.8416659632448535) < 1e-9);
  assert.ok(Math.abs(b.pValue - 1.287550740378782e-6) < 1e-15);
});

test('two-mean z-test matches SciPy', () => {
  const t = twoMeanZTest({ n: 5000, mean: 0.42, variance: 0.09 }, { n: 800, mean: 0.45, variance: 0.12 }, 0.02);
  assert.ok(Math.abs(t.z - 2.314550249431381) < 1e-9);
  assert.ok(Math.abs(t.pValue - 0.02063755824397207) < 1e-12);
  assert.ok(Math.abs(t.lower - -0.00015291469190212986) < 1e-12);
  assert.ok(Math.abs(t.upper - 0.06015291469190218) < 1e-12);
});
