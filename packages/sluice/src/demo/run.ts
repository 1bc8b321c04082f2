/**
 * `sluice demo` as a function: set up Sluice, the example agent's two releases and a stream of
 * customers; run a canary of 2.3.1 over 2.3.0; watch the analysis catch 2.3.1's escalation
 * regression and roll it back by itself; report what happened with every number behind it.
 * Everything it starts is stopped before it returns, on success, failure or abort alike.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, isTerminal, signEnvelope, SluiceError, type MetricResult } from '@sluice/core';
import { RELEASES_DIR, startModelServer } from '@sluice/example-support-agent';
import type { AnalysisView } from '../analysis/routes.js';
import { ANALYSIS_ACTOR } from '../analysis/loop.js';
import type { AuditRow } from '../control/audit/chain.js';
import { changelogEntry, type ChangelogEntry } from '../control/audit/changelog.js';
import { ControlClient } from '../control/client.js';
import type { RolloutRecord } from '../control/services/rollouts.js';
import { runUp } from '../server/up.js';
import { buildRelease } from '../release/build.js';
import { ReleaseStore } from '../release/store.js';
import { checkIntegrity } from '../release/verify.js';
import { spawnAgent, type AgentProcess } from './agents.js';
import { demoPlan } from './plan.js';
import { fixedHorizonSessions } from './sample-size.js';
import { TrafficGenerator, type TrafficStats } from './traffic.js';

export type { ChangelogEntry };

export const BASELINE = 'support-agent@2.3.0';
export const CANARY = 'support-agent@2.3.1';
/** The escalation rates the two releases are built to have (examples/support-agent/README.md). */
export const EXPECTED_RATES = { baseline: 0.08, canary: 0.22 } as const;

export interface DemoOptions {
  seed: number;
  /** New sessions per second. */
  rate: number;
  concurrency: number;
  /** Canary weight of the first step, percent. */
  weight: number;
  /** Analysis window, e.g. `1s`. */
  interval: string;
  /** How often the rollout loop looks. */
  tickMs: number;
  /** Give up (and fail) after this long. */
  timeoutMs: number;
  /** Keep the data directory (store, releases, key) for `sluice up --data-dir` afterwards. */
  keep: boolean;
  signal?: AbortSignal;
  /** A setup step done, in words. */
  onStep?: (line: string) => void;
  /** Where things stand, about every `progressMs`. */
  onProgress?: (s: DemoSnapshot) => void;
  progressMs?: number;
}

export const DEFAULT_OPTIONS = { seed: 2301, rate: 30, concurrency: 32, weight: 20, interval: '1s', tickMs: 250, timeoutMs: 110_000, keep: false } as const;
/** What the tests run: the same demo, with customers arriving twice as fast. */
export const FAST_OPTIONS = { ...DEFAULT_OPTIONS, rate: 60, concurrency: 48 } as const;

export interface CohortView {
  release: string;
  /** Sessions the customers were served by this release, and how many of them escalated. */
  sessions: number;
  escalated: number;
  escalationRate: number | null;
}

export interface MetricView {
  name: string;
  dryRun: boolean;
  verdict: string;
  baseline: number | null;
  canary: number | null;
  difference: number | null;
  /** The anytime-valid interval for canary − baseline (or the metric's own scale), and the tolerance bound. */
  interval: { lower: number | null; upper: number | null; bound: number; scale: string } | null;
  /** Observations the analysis counted: [baseline, canary]. */
  n: [number, number];
  rule: string;
}

export interface DemoSnapshot {
  elapsedMs: number;
  rollout: { id: string; status: string; step: number; steps: number; weight: number };
  traffic: { started: number; finished: number; errors: number };
  cohorts: { baseline: CohortView; canary: CohortView };
  analysis: { windows: number; decision: string | null; metrics: MetricView[] };
}


export interface DemoResult {
  /** The analysis rolled the canary back. */
  caught: boolean;
  /** `analysis` when the analysis loop did it; else the actor of the change that ended the rollout, or null. */
  rolledBackBy: string | null;
  status: string;
  rolloutId: string;
  /** Sessions the analysis had counted per cohort in the window that decided the rollback. */
  canarySessionsAtRollback: number | null;
  baselineSessionsAtRollback: number | null;
  /** Canary sessions a fixed-horizon two-proportion z-test (α 0.05 two-sided, power 0.8, 8% vs 22%) needs. */
  fixedHorizonSessions: number;
  /** From the start of the rollout to the rollback. */
  detectedAfterMs: number | null;
  /** The whole run, from the first set-up step to this result (shutdown takes a second more). */
  elapsedMs: number;
  /** Every metric as judged in the deciding window (or the last one). */
  verdicts: MetricView[];
  /** What the customers were served. */
  served: { baseline: CohortView; canary: CohortView; sessions: number; errors: number };
  changelog: ChangelogEntry[];
  seed: number;
  /** The agent processes the demo ran (all stopped by the time this result is returned). */
  agents: Array<{ release: string; pid: number }>;
  /** The data directory when kept, else null. */
  dataDir: string | null;
}

const metricView = (m: MetricResult): MetricView => ({
  name: m.name,
  dryRun: m.dryRun,
  verdict: m.verdict,
  baseline: m.estimate.baseline,
  canary: m.estimate.canary,
  difference: m.estimate.difference,
  interval: m.interval ? { lower: m.interval.lower, upper: m.interval.upper, bound: m.interval.bound, scale: m.interval.scale } : null,
  n: [m.counts.cumulative.baseline.n, m.counts.cumulative.canary.n],
  rule: m.rule,
});

function cohortView(stats: TrafficStats, release: string): CohortView {
  const c = stats.byRelease[release] ?? { sessions: 0, escalated: 0, failed: 0 };
  return { release, sessions: c.sessions, escalated: c.escalated, escalationRate: c.sessions > 0 ? c.escalated / c.sessions : null };
}


const aborted = () => new SluiceError('failed', 'the demo was interrupted');

export async function runDemo(options: Partial<DemoOptions> = {}): Promise<DemoResult> {
  const o: DemoOptions = { ...DEFAULT_OPTIONS, ...options };
  const t0 = Date.now();
  const step = o.onStep ?? (() => {});
  const cleanup: Array<() => Promise<unknown>> = [];
  const dir = await mkdtemp(join(tmpdir(), 'sluice-demo-'));
  if (!o.keep) cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const check = () => {
    if (o.signal?.aborted) throw aborted();
  };
  try {
    // 1. Two releases from source, signed with a key made for this run only.
    const key = generateSigningKey();
    await writeFile(join(dir, 'demo-release.key'), key.privateKeyPem, { mode: 0o600 });
    const publicKeyFile = join(dir, 'demo-release.key.pub');
    await writeFile(publicKeyFile, key.publicKeyPem);
    const store = ReleaseStore.open(join(dir, 'store'));
    for (const version of ['2.3.0', '2.3.1']) {
      const built = await buildRelease(join(RELEASES_DIR, version), store);
      const { release } = await checkIntegrity(store, built.ref);
      await store.putSignature(release.digest, signEnvelope(release.manifestBytes, key.privateKeyPem));
      step(`built and signed ${built.ref} ${built.digest.slice(0, 19)}…`);
    }
    check();

    // 2. `sluice up` in this process: control plane, gateway, telemetry and analysis, on free ports.
    const dataDir = join(dir, 'data');
    const up = await runUp({ port: 0, gatewayPort: 0, host: '127.0.0.1', dataDir, trustedKeys: [publicKeyFile], tickMs: o.tickMs });
    cleanup.unshift(() => up.stop());
    const apiUrl = up.urls.api!;
    const gatewayUrl = up.urls.gateway;
    if (!gatewayUrl || !up.adminToken) throw new SluiceError('failed', 'sluice up started without a gateway or an admin token');
    step(`sluice is up: control API ${apiUrl}, gateway ${gatewayUrl} (embedded store in ${dataDir}; only releases signed by the demo key are served)`);
    const client = new ControlClient({ server: apiUrl, token: up.adminToken.token });
    for (const ref of [BASELINE, CANARY]) {
      const local = await store.resolve(ref);
      const envelopes = (await store.signatures(local.digest)).map((s) => s.envelope);
      await client.command('/v1/releases', { manifest: local.manifest, envelopes, digest: local.digest });
    }
    step('registered both releases (signatures checked against the demo key)');
    const telemetry = await client.command<{ token: string }>('/v1/tokens', { subject: 'support-agent telemetry', role: 'agent' });
    check();

    // 3. The example's model server, and one agent process per release sending spans to Sluice.
    const model = await startModelServer();
    cleanup.unshift(() => new Promise<void>((r) => model.server.close(() => r())));
    const agents: AgentProcess[] = [];
    cleanup.unshift(() => Promise.all(agents.map((a) => a.stop())));
    await Promise.all(
      ['2.3.0', '2.3.1'].map(async (v) => {
        const a = await spawnAgent({ releaseDir: join(RELEASES_DIR, v), modelUrl: model.url, otlpUrl: apiUrl, otlpToken: telemetry.token });
        agents.push(a);
      }),
    );
    for (const a of agents.sort((x, y) => x.release.localeCompare(y.release))) step(`agent ${a.release} running at ${a.url} (pid ${a.pid}), spans → ${apiUrl}/v1/traces`);
    for (const a of agents) await client.command('/v1/deployments', { release: a.release, upstreams: [a.url], healthUrl: `${a.url}/healthz` });
    step(`deployed both; ${BASELINE} is stable`);
    check();

    // 4. The canary, and customers.
    const plan = demoPlan({ weight: o.weight, interval: o.interval });
    const rollout = await client.command<RolloutRecord>('/v1/rollouts', { plan, reason: 'sluice demo: try the 2.3.1 prompt change on a few sessions' });
    const started = Date.now();
    step(`started rollout ${rollout.id}: ${BASELINE} → ${CANARY}, canary ${o.weight}% of new sessions, analysis every ${o.interval} on escalation_rate`);
    const routing = await client.get<{ epoch: number }>('/v1/routing');
    await waitFor(async () => ((await (await fetch(`${gatewayUrl}/status`)).json()) as { epoch: number | null }).epoch! >= routing.epoch, 10_000, 'the gateway to pick up the rollout');
    const traffic = new TrafficGenerator({ gatewayUrl: gatewayUrl, seed: o.seed, rate: o.rate, concurrency: o.concurrency });
    cleanup.unshift(() => traffic.stop());
    traffic.start();
    step(`customers: ${o.rate} new sessions/s, up to ${o.concurrency} at once (seed ${o.seed})`);

    // 5. Watch until the rollout ends (or time runs out): the analysis decides, not the demo.
    const snapshot = async (r: RolloutRecord, view: AnalysisView): Promise<DemoSnapshot> => ({
      elapsedMs: Date.now() - t0,
      rollout: { id: r.id, status: r.state.status, step: r.state.stepIndex, steps: r.state.plan.steps.length, weight: r.state.weight },
      traffic: { started: traffic.stats.started, finished: traffic.stats.finished, errors: traffic.stats.errors },
      cohorts: { baseline: cohortView(traffic.stats, BASELINE), canary: cohortView(traffic.stats, CANARY) },
      analysis: { windows: view.windows.length, decision: view.latest?.decision ?? null, metrics: (view.latest?.result.metrics ?? []).map(metricView) },
    });
    const deadline = t0 + o.timeoutMs;
    let lastProgress = 0;
    const rolloutNow = () => client.get<RolloutRecord>(`/v1/rollouts/${rollout.id}`);
    const analysisNow = () => client.get<AnalysisView>(`/v1/rollouts/${rollout.id}/analysis`, { query: { limit: 500 } });
    let r = await rolloutNow();
    // The rollout is decided once it is rolling back (draining canary sessions) or has ended.
    const decided = (x: RolloutRecord) => isTerminal(x.state.status) || x.state.status === 'rolling-back';
    while (!decided(r) && Date.now() < deadline) {
      check();
      await sleep(200);
      r = await rolloutNow();
      if (o.onProgress && Date.now() - lastProgress >= (o.progressMs ?? 1000)) {
        lastProgress = Date.now();
        o.onProgress(await snapshot(r, await analysisNow()));
      }
    }
    const ended = Date.now();
    await traffic.stop();
    const view = await analysisNow();
    o.onProgress?.(await snapshot(r, view));

    // 6. What happened, from the store: the deciding window and the changelog.
    // Once the rollout stops progressing the loop judges no more windows: the newest is the deciding one.
    const result = view.latest ?? undefined;
    const deciding = result?.decision === 'rollback' ? result : undefined;
    const esc = result?.result.metrics.find((m) => m.name === 'escalation_rate');
    const audit = await client.get<{ events: AuditRow[] }>('/v1/audit', { query: { agent: 'support-agent', limit: 200 } });
    const changelog = audit.events.map(changelogEntry);
    const ending = [...changelog].reverse().find((e) => e.target.includes(rollout.id) && e.status !== null && ['rolling-back', 'rolled-back', 'promoted', 'aborted'].includes(e.status));
    const rolledBack = r.state.status === 'rolled-back' || r.state.status === 'rolling-back';
    const rolledBackBy = ending ? (ending.actor === ANALYSIS_ACTOR ? 'analysis' : ending.actor) : null;
    const served = cohortView(traffic.stats, BASELINE);
    const servedCanary = cohortView(traffic.stats, CANARY);
    return {
      caught: rolledBack && rolledBackBy === 'analysis',
      rolledBackBy: rolledBack ? rolledBackBy : null,
      status: r.state.status,
      rolloutId: rollout.id,
      canarySessionsAtRollback: deciding && esc ? esc.counts.cumulative.canary.n : null,
      baselineSessionsAtRollback: deciding && esc ? esc.counts.cumulative.baseline.n : null,
      fixedHorizonSessions: fixedHorizonSessions(EXPECTED_RATES.baseline, EXPECTED_RATES.canary, 0.05, 0.8),
      detectedAfterMs: rolledBack ? ended - started : null,
      elapsedMs: Date.now() - t0,
      verdicts: (result?.result.metrics ?? []).map(metricView),
      served: { baseline: served, canary: servedCanary, sessions: traffic.stats.finished, errors: traffic.stats.errors },
      changelog,
      seed: o.seed,
      agents: agents.map((a) => ({ release: a.release, pid: a.pid })),
      dataDir: o.keep ? dir : null,
    };
  } finally {
    for (const c of cleanup) await c().catch(() => {});
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(ok: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > until) throw new SluiceError('failed', `timed out waiting for ${what}`);
    await sleep(50);
  }
}
