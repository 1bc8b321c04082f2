import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAnalysisSpec } from '../spec.js';
import { simulateScenario, SUPPORT_AGENT } from './rollout.js';
import { Prng } from './prng.js';

// Small, fast versions of the bench (bench/analysis): loose bounds, so that a change that
// breaks the statistics' error control or power fails CI.
const zeroTolerance = parseAnalysisSpec({
  metrics: [
    { name: 'escalation_rate', tolerance: { absolute: 0 } },
    { name: 'cost_per_session', tolerance: { absolute: 0 } },
  ],
});

test('A/A, a look after every session: Sluice rarely fails; the naive z-test fails far more often', () => {
  const s = simulateScenario({ seed: 11, rollouts: 200, maxSessions: 4000, canaryShare: 0.5, baseline: SUPPORT_AGENT, canary: SUPPORT_AGENT, spec: zeroTolerance, naive: true });
  assert.ok(s.failRate <= 0.05, `false fails ${s.failRate}`);
  assert.ok(s.naiveFailRate >= 0.15, `naive ${s.naiveFailRate}`);
  assert.ok(s.naiveFailRate >= 3 * s.failRate + 0.05);
  assert.ok(s.srmRate <= 0.02);
});

test('seed scenario (escalations 8% → 22%, canary 5%): caught in nearly every rollout, early', () => {
  const spec = parseAnalysisSpec({ metrics: [{ name: 'escalation_rate', tolerance: { relative: 0.1 } }] });
  const s = simulateScenario({ seed: 12, rollouts: 100, maxSessions: 20000, canaryShare: 0.05, baseline: SUPPORT_AGENT, canary: { ...SUPPORT_AGENT, escalation: 0.22 }, spec, stopAtFirstFail: true });
  assert.ok(s.failRate >= 0.97, `detected ${s.failRate}`);
  assert.ok(s.canarySessionsToFail.median! <= 150, `median ${s.canarySessionsToFail.median}`);
});

test('the PRNG is reproducible and roughly uniform and normal', () => {
  const a = new Prng(7);
  const b = new Prng(7);
  for (let i = 0; i < 100; i++) assert.equal(a.uint32(), b.uint32());
  const r = new Prng(8);
  let m = 0;
  let s2 = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    m += z;
    s2 += z * z;
  }
  assert.ok(Math.abs(m / n) < 0.03 && Math.abs(s2 / n - 1) < 0.05);
});
