import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logBeta, logGamma } from './gamma.js';
import { srmCheck } from './srm.js';

test('log-gamma and log-beta match scipy.special', () => {
  const g: [number, number][] = [
    [0.5, 0.5723649429247],
    [1, 0],
    [1.5, -0.12078223763524526],
    [3.7, 1.428072326665388],
    [9.99, 12.779315214350195],
    [10.01, 12.824350262448247],
    [123.4, 469.3360974421906],
    [1000000.5, 12815511.476902766],
  ];
  for (const [x, ref] of g) assert.ok(Math.abs(logGamma(x) - ref) <= 1e-13 * Math.max(1, Math.abs(ref)), `lgamma(${x}) = ${logGamma(x)} vs ${ref}`);
  const b: [number, number, number][] = [
    [5, 95, -19.694969560028976],
    [65, 1035, -248.04115564924996],
    [50.5, 50.5, -70.70086457412224],
    [1005, 19095, -3992.668094344903],
  ];
  for (const [x, y, ref] of b) assert.ok(Math.abs(logBeta(x, y) - ref) < 1e-9, `betaln(${x},${y})`);
});

test('SRM Bayes factor matches the Beta–binomial formula evaluated with scipy.special.betaln', () => {
  const cases: [number, number, number, number][] = [
    [1900, 100, 0.05, -1.5381540322882898],
    [1950, 50, 0.05, 13.830405642602855],
    [5000, 5000, 0.5, -2.310035464264729],
    [5200, 4800, 0.5, 5.613613411778715],
    [0, 0, 0.1, 0],
  ];
  for (const [xb, xc, th, ref] of cases) assert.ok(Math.abs(srmCheck(xb, xc, th, 0.001).logBayesFactor - ref) < 1e-8);
});

test('a lost half of the canary is flagged; the expected split is not', () => {
  assert.equal(srmCheck(1950, 50, 0.05, 0.001).mismatch, true);
  assert.equal(srmCheck(1900, 100, 0.05, 0.001).mismatch, false);
  assert.equal(srmCheck(19000, 1000, 0.05, 0.001).mismatch, false);
  // the p-value only goes down: a past mismatch stays reported
  assert.equal(srmCheck(1900, 100, 0.05, 0.001, 1e-6).mismatch, true);
});
