import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analysisSimulation, parseAnalysisSpec } from '@sluice/core';
import { runCli } from '../testing/cli.js';
import { ANALYSIS_ACTOR } from '../analysis/loop.js';
import { DEFAULT_OPTIONS, EXPECTED_RATES, runDemo, FAST_OPTIONS, type DemoResult } from './run.js';
import { demoPlan } from './plan.js';
import { fixedHorizonSessions } from './sample-size.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('the fixed-horizon sample size follows the textbook formula', () => {
  // Reference values from SciPy 1.17 (norm.ppf) in the same pooled-variance formula, no continuity correction.
  assert.equal(fixedHorizonSessions(0.05, 0.1), 435);
  assert.equal(fixedHorizonSessions(0.08, 0.22), 101);
  assert.equal(fixedHorizonSessions(0.1, 0.05), 435, 'symmetric in the two proportions');
  // More power or a smaller α costs sessions; a bigger effect saves them.
  assert.ok(fixedHorizonSessions(0.08, 0.22, 0.05, 0.9) > fixedHorizonSessions(0.08, 0.22, 0.05, 0.8));
  assert.ok(fixedHorizonSessions(0.08, 0.22, 0.01, 0.8) > fixedHorizonSessions(0.08, 0.22, 0.05, 0.8));
  assert.ok(fixedHorizonSessions(0.08, 0.3) < fixedHorizonSessions(0.08, 0.22));
  assert.throws(() => fixedHorizonSessions(0.1, 0.1), RangeError);
});

test("the demo's plan, simulated 400 times at 8% vs 22%, rolls back every time, at a median below the fixed-horizon sample size", () => {
  // One demo run is one draw (its canary count at rollback varies run to run, see docs/demo.md);
  // the claim that sequential analysis needs fewer canary sessions is about the distribution.
  const plan = demoPlan({ weight: DEFAULT_OPTIONS.weight, interval: DEFAULT_OPTIONS.interval });
  const model = analysisSimulation.SUPPORT_AGENT;
  const summary = analysisSimulation.simulateScenario({
    seed: 2301,
    rollouts: 400,
    maxSessions: 10_000,
    canaryShare: DEFAULT_OPTIONS.weight / 100,
    baseline: { ...model, escalation: EXPECTED_RATES.baseline },
    canary: { ...model, escalation: EXPECTED_RATES.canary },
    spec: parseAnalysisSpec(plan.analysis),
    stopAtFirstFail: true,
  });
  assert.equal(summary.failRate, 1);
  assert.deepEqual(summary.failedMetrics, { escalation_rate: 400 });
  const fixed = fixedHorizonSessions(EXPECTED_RATES.baseline, EXPECTED_RATES.canary);
  assert.ok(summary.canarySessionsToFail.median! < fixed, `median ${summary.canarySessionsToFail.median} canary sessions vs ${fixed}`);
});

test('sluice demo --json: the analysis catches the escalation regression and rolls back by itself, in under two minutes', async () => {
  const started = Date.now();
  const run = await runCli(['demo', '--json', '--fast']);
  const wall = Date.now() - started;
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const r = run.json<DemoResult>();
  assert.equal(r.caught, true);
  assert.equal(r.rolledBackBy, 'analysis');
  assert.ok(['rolling-back', 'rolled-back'].includes(r.status), r.status);

  // The changelog says who rolled back and why: the analysis, on escalation_rate.
  const rollback = r.changelog.find((e) => e.target.includes(r.rolloutId) && e.status === 'rolling-back');
  assert.ok(rollback, JSON.stringify(r.changelog, null, 1));
  assert.equal(rollback.actor, ANALYSIS_ACTOR);
  assert.match(rollback.reason ?? '', /escalation_rate: regression proven/);
  assert.ok(!r.changelog.some((e) => e.actor !== ANALYSIS_ACTOR && /rollback|abort/.test(e.action)), 'nobody else rolled back or aborted');

  // The deciding verdict, with its numbers.
  const esc = r.verdicts.find((m) => m.name === 'escalation_rate');
  assert.equal(esc?.verdict, 'fail');
  assert.ok(esc.interval && esc.interval.lower !== null && esc.interval.lower > esc.interval.bound, 'the interval lies above the tolerance');
  assert.ok(r.verdicts.filter((m) => m.name !== 'escalation_rate').every((m) => m.dryRun), 'only escalation_rate acts');
  assert.ok(r.canarySessionsAtRollback !== null && r.baselineSessionsAtRollback !== null);
  assert.deepEqual(esc.n, [r.baselineSessionsAtRollback, r.canarySessionsAtRollback]);
  assert.ok(r.canarySessionsAtRollback >= 20 && r.canarySessionsAtRollback <= r.served.canary.sessions, `counted ${r.canarySessionsAtRollback} of ${r.served.canary.sessions} served`);
  assert.equal(r.fixedHorizonSessions, 101);
  // What the customers saw matches the regression the analysis found.
  assert.ok(r.served.canary.escalationRate! > r.served.baseline.escalationRate!);

  assert.ok(r.elapsedMs < 120_000 && wall < 120_000, `took ${r.elapsedMs} ms (${wall} ms wall)`);
  // Nothing left running: both agent processes are gone.
  assert.equal(r.agents.length, 2);
  for (const a of r.agents) assert.equal(alive(a.pid), false, `agent ${a.release} (pid ${a.pid}) still running`);
});

test('an interrupted demo stops every process it started', async () => {
  const controller = new AbortController();
  const pids: number[] = [];
  const run = runDemo({
    ...FAST_OPTIONS,
    signal: controller.signal,
    onStep: (line) => {
      const pid = /\(pid (\d+)\)/.exec(line)?.[1];
      if (pid) pids.push(Number(pid));
      if (line.startsWith('deployed')) controller.abort();
    },
  });
  await assert.rejects(run, /interrupted/);
  assert.equal(pids.length, 2);
  for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} still running`);
});

test('sluice demo exits 1 when the analysis has not rolled back in time, and still stops everything', async () => {
  // One second is over before the canary starts: the demo must give up, say so, and fail.
  const run = await runCli(['demo', '--json', '--fast', '--timeout', '1']);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  const r = run.json<DemoResult>();
  assert.equal(r.caught, false);
  assert.equal(r.rolledBackBy, null);
  assert.equal(r.status, 'progressing');
  assert.equal(r.canarySessionsAtRollback, null);
  for (const a of r.agents) assert.equal(alive(a.pid), false, `agent ${a.release} (pid ${a.pid}) still running`);
});
