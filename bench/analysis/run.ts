// npm run bench:analysis — simulated rollouts that show what Sluice's sequential analysis buys:
// error control under continuous monitoring (A/A), and how fast it catches real regressions.
// One run, seeded, reproducible; rollouts run in parallel worker threads.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { analysisSimulation, parseAnalysisSpec, type AnalysisSpecInput } from '@sluice/core';

type Options = analysisSimulation.ScenarioOptions;
type Outcome = analysisSimulation.RolloutOutcome;
const { SUPPORT_AGENT, summarize } = analysisSimulation;

const SEED = Number(process.env.SLUICE_BENCH_SEED ?? 20261122);
const WORKERS = Math.max(1, Math.min(Number(process.env.SLUICE_BENCH_WORKERS ?? availableParallelism()), 8));
const SCALE = Number(process.env.SLUICE_BENCH_SCALE ?? 1); // < 1 for a quick look

// A pool of workers kept for the whole run (starting one costs a TypeScript compile).
const pool = Array.from({ length: WORKERS }, () => new Worker(new URL('./worker.mjs', import.meta.url), { execArgv: ['--conditions=sluice-source'] }));
let nextId = 0;
const pending = new Map<number, (o: Outcome[]) => void>();
for (const w of pool) {
  w.on('message', (m: { id: number; outcomes: Outcome[] }) => pending.get(m.id)!(m.outcomes));
  w.on('error', (e) => {
    console.error(e);
    process.exit(1);
  });
}

/** Runs a scenario's rollouts in chunks across the pool. */
async function run(options: Options): Promise<Outcome[]> {
  const n = options.rollouts;
  const chunk = Math.max(1, Math.ceil(n / (WORKERS * 4)));
  const queue: [number, number][] = [];
  for (let a = 0; a < n; a += chunk) queue.push([a, Math.min(n, a + chunk)]);
  const results: Outcome[][] = new Array(queue.length);
  await Promise.all(
    pool.map(async (w) => {
      for (;;) {
        const k = queue.length - 1;
        const slice = queue.pop();
        if (!slice) return;
        const id = nextId++;
        results[k] = await new Promise<Outcome[]>((resolve) => {
          pending.set(id, resolve);
          w.postMessage({ id, options, from: slice[0], to: slice[1] });
        });
        pending.delete(id);
      }
    }),
  );
  return results.flat();
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const num = (x: number | null) => (x === null ? '—' : x.toLocaleString('en-US'));
const rollouts = (n: number) => Math.max(20, Math.round(n * SCALE));
const spec = (input: AnalysisSpecInput) => parseAnalysisSpec(input);

const THREE_ZERO = spec({
  metrics: [
    { name: 'escalation_rate', tolerance: { absolute: 0 } },
    { name: 'cost_per_session', tolerance: { absolute: 0 } },
    { name: 'latency_p95', tolerance: { absolute: 0 } },
  ],
});
const THREE = spec({
  metrics: [
    { name: 'escalation_rate', tolerance: { absolute: 0.01 } },
    { name: 'cost_per_session', tolerance: { relative: 0.1 } },
    { name: 'latency_p95', tolerance: { relative: 0.1 } },
  ],
});
const ESCALATION_ONLY = spec({ metrics: [{ name: 'escalation_rate', tolerance: { absolute: 0.01 } }] });

const started = performance.now();
console.log(`Sluice analysis bench (seed ${SEED}, ${WORKERS} worker${WORKERS === 1 ? '' : 's'}${SCALE !== 1 ? `, scale ${SCALE}` : ''})`);
console.log(`simulated support agent: escalation 8%, cost log-normal median $0.02 σ 0.5, latency log-normal median 800 ms σ 0.6; α = 0.05 split across metrics; minSamples 30; plannedSamples 2,000\n`);

// 1. A/A
{
  const n = rollouts(1000);
  const base = { seed: SEED, rollouts: n, maxSessions: 20_000, canaryShare: 0.05, baseline: SUPPORT_AGENT, canary: SUPPORT_AGENT, naive: true };
  const t0 = performance.now();
  const strict = summarize(await run({ ...base, spec: THREE_ZERO, quantileLookEvery: 10 }));
  const t1 = performance.now();
  console.log(`A/A — no difference, canary 5%, 20,000 sessions per rollout, a look after every session (p95 every 10), ${n.toLocaleString('en-US')} rollouts`);
  console.log(`  plan: escalation_rate, cost_per_session, latency_p95, tolerance 0 (the strictest case: any excursion is a "regression")`);
  console.log(`  false rollbacks   Sluice ${pct(strict.failRate)}   naive z-test at every look ${pct(strict.naiveFailRate)}   (SRM false pauses ${pct(strict.srmRate)})   [${((t1 - t0) / 1000).toFixed(1)} s]`);
  const tolerant = summarize(await run({ ...base, rollouts: rollouts(200), seed: SEED + 1, spec: THREE, quantileLookEvery: 10 }));
  console.log(`  plan with tolerances (escalation +1 pt, cost +10%, p95 +10%), ${tolerant.rollouts} rollouts: Sluice ${pct(tolerant.failRate)}   naive ${pct(tolerant.naiveFailRate)}`);
  const even = summarize(await run({ ...base, rollouts: rollouts(200), seed: SEED + 4, canaryShare: 0.5, spec: THREE_ZERO, quantileLookEvery: 10 }));
  console.log(`  canary 50% (tolerance 0), ${even.rollouts} rollouts: Sluice ${pct(even.failRate)}   naive ${pct(even.naiveFailRate)}\n`);
}

// 2. The seed scenario
{
  const n = rollouts(1000);
  console.log(`Seed scenario — escalation 8% baseline, 22% canary, canary 5% of sessions, up to 20,000 sessions, ${n.toLocaleString('en-US')} rollouts`);
  for (const [label, s] of [
    ['escalation_rate alone (tolerance +1 pt)', ESCALATION_ONLY],
    ['three metrics (α/3 each)', THREE],
  ] as const) {
    const r = summarize(await run({ seed: SEED + 2, rollouts: n, maxSessions: 20_000, canaryShare: 0.05, baseline: SUPPORT_AGENT, canary: { ...SUPPORT_AGENT, escalation: 0.22 }, spec: s, stopAtFirstFail: true }));
    console.log(
      `  ${label.padEnd(42)} detected ${pct(r.failRate)}   canary sessions to rollback median ${num(r.canarySessionsToFail.median)}, p95 ${num(r.canarySessionsToFail.p95)}   (all sessions median ${num(r.sessionsToFail.median)})`,
    );
  }
  console.log('');
}

// 3. Other regressions
{
  const n = rollouts(200);
  console.log(`Regressions — canary 5%, three-metric plan (cost and p95 tolerance +10%), a look after every session, up to 60,000 sessions, ${n.toLocaleString('en-US')} rollouts each`);
  for (const [label, canary] of [
    ['p95 latency +30%', { ...SUPPORT_AGENT, latencyMedian: SUPPORT_AGENT.latencyMedian * 1.3 }],
    ['cost per session +25%', { ...SUPPORT_AGENT, costMedian: SUPPORT_AGENT.costMedian * 1.25 }],
  ] as const) {
    const r = summarize(await run({ seed: SEED + 3, rollouts: n, maxSessions: 60_000, canaryShare: 0.05, baseline: SUPPORT_AGENT, canary, spec: THREE, stopAtFirstFail: true }));
    console.log(
      `  ${label.padEnd(24)} detected ${pct(r.failRate)} (${Object.entries(r.failedMetrics).map(([k, v]) => `${k} ${v}`).join(', ')})   sessions to detect median ${num(r.sessionsToFail.median)}, p95 ${num(r.sessionsToFail.p95)}   canary sessions median ${num(r.canarySessionsToFail.median)}, p95 ${num(r.canarySessionsToFail.p95)}`,
    );
  }
}
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
for (const w of pool) await w.terminate();
