import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, type AnalysisResult } from './evaluate.js';
import { Histogram } from './histogram.js';
import { emptyCohort, mergeCohorts, type AnalysisWindow, type CohortSample } from './samples.js';
import { parseAnalysisSpec, type AnalysisSpecInput } from './spec.js';
import { SluiceError } from '../errors/errors.js';
import { Prng } from './simulation/prng.js';
import { SUPPORT_AGENT, type CohortModel } from './simulation/rollout.js';

/** Sessions of one cohort as samples: escalation, cost and latency per session, like the aggregator's output. */
function cohort(rng: Prng, sessions: number, m: CohortModel): CohortSample {
  let x = 0;
  let sum = 0;
  let sumSq = 0;
  const lat = new Histogram();
  for (let i = 0; i < sessions; i++) {
    if (rng.bernoulli(m.escalation)) x++;
    const c = rng.logNormal(m.costMedian, m.costSigma);
    sum += c;
    sumSq += c * c;
    lat.add(rng.logNormal(m.latencyMedian, m.latencySigma));
  }
  return {
    sessions,
    metrics: {
      escalation_rate: { kind: 'proportion', n: sessions, x },
      cost_per_session: { kind: 'mean', n: sessions, sum, sumSq },
      latency_p95: { kind: 'quantile', histogram: lat.toJSON() },
    },
  };
}

/** Runs `windows` windows of `perWindow` sessions each through evaluate(), carrying history. */
function run(specInput: AnalysisSpecInput, opts: { seed: number; windows: number; baselinePerWindow: number; canaryPerWindow: number; share?: number; baseline?: CohortModel; canary?: CohortModel }): AnalysisResult[] {
  const spec = parseAnalysisSpec(specInput);
  const rng = new Prng(opts.seed);
  let cum = { baseline: emptyCohort(), canary: emptyCohort() };
  const history: AnalysisResult[] = [];
  for (let i = 0; i < opts.windows; i++) {
    const win = { baseline: cohort(rng, opts.baselinePerWindow, opts.baseline ?? SUPPORT_AGENT), canary: cohort(rng, opts.canaryPerWindow, opts.canary ?? SUPPORT_AGENT) };
    cum = { baseline: mergeCohorts(cum.baseline, win.baseline), canary: mergeCohorts(cum.canary, win.canary) };
    const w: AnalysisWindow = {
      index: i,
      start: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      end: new Date(Date.UTC(2026, 0, 1, 0, i + 1)).toISOString(),
      expectedCanaryShare: opts.share ?? opts.canaryPerWindow / (opts.canaryPerWindow + opts.baselinePerWindow),
      window: win,
      cumulative: cum,
    };
    history.push(evaluate(spec, w, history));
  }
  return history;
}

const THREE = { metrics: [{ name: 'escalation_rate', tolerance: { relative: 0.1 } }, { name: 'cost_per_session', tolerance: { relative: 0.1 } }, { name: 'latency_p95', tolerance: { relative: 0.1 } }] };

test('the seed regression (escalations 8% → 22%) fails and rolls back, and says why with every number', () => {
  const results = run(THREE, { seed: 1, windows: 3, baselinePerWindow: 3000, canaryPerWindow: 150, canary: { ...SUPPORT_AGENT, escalation: 0.22 } });
  const r = results.find((x) => x.decision !== 'continue')!;
  assert.equal(r.decision, 'rollback');
  const esc = r.metrics.find((m) => m.name === 'escalation_rate')!;
  assert.equal(esc.verdict, 'fail');
  assert.match(esc.rule, /regression proven/);
  assert.equal(esc.interval!.scale, 'relative');
  assert.ok(esc.interval!.lower! > 0.1);
  assert.ok(esc.counts.cumulative.canary.x! > 0 && esc.counts.cumulative.canary.n >= 150);
  assert.ok(esc.pValue !== null && esc.pValue < esc.alpha, 'the always-valid p agrees with the interval');
  assert.match(r.reason, /rolling back/);
  assert.equal(r.alphaPerMetric, 0.05 / 3);
  // plain JSON: survives a round trip unchanged
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
});

test('an unchanged canary passes every metric and advances after `consecutive` windows', () => {
  const results = run({ ...THREE, consecutive: 2 }, { seed: 2, windows: 8, baselinePerWindow: 20000, canaryPerWindow: 20000, canary: { ...SUPPORT_AGENT, escalation: 0.07, costMedian: 0.018, latencyMedian: 760 } });
  const firstAdvance = results.findIndex((r) => r.decision === 'advance');
  assert.ok(firstAdvance >= 1, results.map((r) => r.reason).join('\n'));
  assert.equal(results[firstAdvance]!.passStreak, 2);
  assert.equal(results[firstAdvance - 1]!.decision, 'continue');
  for (const m of results[firstAdvance]!.metrics) {
    assert.equal(m.verdict, 'pass', m.rule);
    assert.match(m.rule, /non-inferiority proven/);
    assert.equal(m.passStreak, 2);
  }
  assert.ok(results.every((r) => r.decision !== 'rollback'));
});

test('below minSamples every metric is nodata and the rollout continues', () => {
  const [r] = run({ ...THREE, minSamples: 50 }, { seed: 3, windows: 1, baselinePerWindow: 400, canaryPerWindow: 20 });
  assert.equal(r!.decision, 'continue');
  for (const m of r!.metrics) {
    assert.equal(m.verdict, 'nodata');
    assert.match(m.rule, /20 canary and 400 baseline observations; at least 50/);
    assert.equal(m.interval, null);
  }
});

test('a dryRun metric reports its fail but never acts, and takes no share of α', () => {
  const spec = { metrics: [{ name: 'escalation_rate', tolerance: { relative: 0.1 }, dryRun: true }, { name: 'cost_per_session', tolerance: { relative: 0.1 } }] };
  const results = run(spec, { seed: 4, windows: 4, baselinePerWindow: 3000, canaryPerWindow: 300, canary: { ...SUPPORT_AGENT, escalation: 0.3 } });
  const esc = results[3]!.metrics[0]!;
  assert.equal(esc.verdict, 'fail');
  assert.ok(results.every((r) => r.decision !== 'rollback'));
  assert.equal(results[0]!.alphaPerMetric, 0.05);
});

test('onRegression: pause pauses instead', () => {
  const results = run({ ...THREE, onRegression: 'pause' }, { seed: 5, windows: 3, baselinePerWindow: 3000, canaryPerWindow: 300, canary: { ...SUPPORT_AGENT, costMedian: 0.03 } });
  const r = results.find((x) => x.decision !== 'continue')!;
  assert.equal(r.decision, 'pause');
  assert.equal(r.metrics.find((m) => m.name === 'cost_per_session')!.verdict, 'fail');
});

test('a p95 latency regression fails through exceedance of the baseline p95', () => {
  const results = run(THREE, { seed: 6, windows: 3, baselinePerWindow: 5000, canaryPerWindow: 500, canary: { ...SUPPORT_AGENT, latencyMedian: 800 * 1.3 } });
  const lat = results[2]!.metrics.find((m) => m.name === 'latency_p95')!;
  assert.equal(lat.verdict, 'fail', lat.rule);
  assert.equal(lat.interval!.scale, 'exceedance');
  assert.ok(lat.interval!.threshold! > lat.estimate.baseline!);
  assert.ok(lat.estimate.relative! > 0.2 && lat.estimate.relative! < 0.4, String(lat.estimate.relative));
});

test('an SLO breach on the canary fails even within the tolerance', () => {
  const spec = { metrics: [{ name: 'escalation_rate', tolerance: { absolute: 0.5 }, slo: { max: 0.05 } }] };
  const results = run(spec, { seed: 7, windows: 2, baselinePerWindow: 3000, canaryPerWindow: 2000 });
  const m = results[1]!.metrics[0]!;
  assert.equal(m.verdict, 'fail');
  assert.equal(m.slo!.status, 'breached');
  assert.match(m.rule, /breaches its SLO/);
});

test('a sample ratio mismatch pauses the rollout whatever the metrics say', () => {
  // the router sends 10% to the canary, but half of the canary's sessions never arrive
  const results = run(THREE, { seed: 8, windows: 2, baselinePerWindow: 9000, canaryPerWindow: 500, share: 0.1 });
  const r = results[1]!;
  assert.equal(r.srm.mismatch, true);
  assert.equal(r.decision, 'pause');
  assert.match(r.reason, /sample ratio mismatch/);
  const ok = run(THREE, { seed: 8, windows: 2, baselinePerWindow: 9000, canaryPerWindow: 1000, share: 0.1 });
  assert.equal(ok[1]!.srm.mismatch, false);
});

test('input the aggregator got wrong is rejected with the field named', () => {
  const spec = parseAnalysisSpec(THREE);
  const pair = { baseline: emptyCohort(), canary: emptyCohort() };
  const base: AnalysisWindow = { index: 0, start: '', end: '', expectedCanaryShare: 0, window: pair, cumulative: pair };
  assert.throws(() => evaluate(spec, base), (e: unknown) => e instanceof SluiceError && e.kind === 'invalid' && e.details[0]!.where === 'window.expectedCanaryShare');
  const wrongKind: CohortSample = { sessions: 10, metrics: { escalation_rate: { kind: 'mean', n: 10, sum: 1, sumSq: 1 } } };
  assert.throws(
    () => evaluate(spec, { ...base, expectedCanaryShare: 0.1, cumulative: { baseline: emptyCohort(), canary: wrongKind } }),
    (e: unknown) => e instanceof SluiceError && e.details.some((d) => d.where === 'window.cumulative.canary.metrics.escalation_rate'),
  );
});

test('streaks reset when a metric stops passing, and p-values only go down', () => {
  const results = run({ ...THREE, consecutive: 10 }, { seed: 9, windows: 6, baselinePerWindow: 20000, canaryPerWindow: 20000, canary: { ...SUPPORT_AGENT, escalation: 0.07, costMedian: 0.018, latencyMedian: 760 } });
  for (let i = 1; i < results.length; i++) {
    for (const m of results[i]!.metrics) {
      const prev = results[i - 1]!.metrics.find((p) => p.name === m.name)!;
      if (prev.pValue !== null && m.pValue !== null) assert.ok(m.pValue <= prev.pValue);
      assert.equal(m.passStreak, m.verdict === 'pass' ? prev.passStreak + 1 : 0);
    }
    assert.equal(results[i]!.passStreak, results[i]!.metrics.every((m) => m.verdict === 'pass') ? results[i - 1]!.passStreak + 1 : 0);
  }
  assert.ok(results.every((r) => r.decision === 'continue'), 'consecutive 10 is not reached in 6 windows');
  assert.ok(results[5]!.passStreak > 0);
});
