/**
 * Simulated rollouts for the bench and the statistics' regression tests: sessions arrive one by
 * one, the router sends each to the canary with probability `canaryShare`, each session yields
 * an outcome (escalated or not), a cost and a latency, and the analysis looks after every
 * session on the cumulative sufficient statistics, exactly as `evaluate()` would (it calls the
 * same `compareMetric`). Quantile metrics may be looked at every `quantileLookEvery` sessions
 * instead, to keep 20 million looks affordable.
 */
import { compareMetric, type MetricView } from '../compare.js';
import { Histogram } from '../histogram.js';
import { resolveMetric, type AnalysisSpec, type ResolvedMetric } from '../spec.js';
import { srmCheck } from '../stats/srm.js';
import { SRM_ALPHA } from '../evaluate.js';
import { Prng } from './prng.js';

export interface CohortModel {
  /** probability a session escalates */
  escalation: number;
  /** cost per session: log-normal median (USD) and log-scale σ */
  costMedian: number;
  costSigma: number;
  /** latency per session: log-normal median (ms) and log-scale σ */
  latencyMedian: number;
  latencySigma: number;
}

export const SUPPORT_AGENT: CohortModel = { escalation: 0.08, costMedian: 0.02, costSigma: 0.5, latencyMedian: 800, latencySigma: 0.6 };

export interface ScenarioOptions {
  seed: number;
  rollouts: number;
  /** sessions (both cohorts) per rollout, unless both tests have failed before */
  maxSessions: number;
  canaryShare: number;
  baseline: CohortModel;
  canary: CohortModel;
  spec: AnalysisSpec;
  quantileLookEvery?: number;
  /** also run the naive fixed-horizon z interval at every look */
  naive?: boolean;
  /** stop a rollout at the first sequential fail (the naive test then stops too) */
  stopAtFirstFail?: boolean;
}

export interface RolloutOutcome {
  /** sessions (both cohorts) when the sequential analysis first said fail, or null */
  failedAt: number | null;
  canaryAtFail: number | null;
  failedMetric: string | null;
  naiveFailedAt: number | null;
  srmAt: number | null;
  sessions: number;
}

interface Track {
  metric: ResolvedMetric;
  value: (s: Session) => number;
  baseline: MetricView;
  canary: MetricView;
}

interface Session {
  escalated: boolean;
  cost: number;
  latency: number;
}

function draw(rng: Prng, m: CohortModel): Session {
  return { escalated: rng.bernoulli(m.escalation), cost: rng.logNormal(m.costMedian, m.costSigma), latency: rng.logNormal(m.latencyMedian, m.latencySigma) };
}

function viewFor(metric: ResolvedMetric): MetricView {
  if (metric.kind === 'quantile') return { kind: 'quantile', histogram: new Histogram() };
  return metric.kind === 'proportion' ? { kind: 'proportion', n: 0, x: 0 } : { kind: 'mean', n: 0, sum: 0, sumSq: 0 };
}

function selector(name: string): (s: Session) => number {
  if (name === 'escalation_rate') return (s) => (s.escalated ? 1 : 0);
  if (name === 'cost_per_session') return (s) => s.cost;
  if (name.startsWith('latency_')) return (s) => s.latency;
  throw new Error(`the simulation does not generate ${name}`);
}

function record(view: MetricView, value: number): void {
  if (view.kind === 'quantile') view.histogram.add(value);
  else if (view.kind === 'proportion') {
    view.n += 1;
    view.x += value;
  } else {
    view.n += 1;
    view.sum += value;
    view.sumSq += value * value;
  }
}

/** The PRNG of rollout `i` of a scenario: rollouts are independent of how they are batched. */
export const rolloutRng = (seed: number, i: number): Prng => new Prng((Math.imul(seed, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca6b)) >>> 0);

export function simulateRollout(o: ScenarioOptions, rng: Prng): RolloutOutcome {
  const metrics = o.spec.metrics.map(resolveMetric);
  const acting = metrics.filter((m) => !m.dryRun);
  const alpha = o.spec.alpha / Math.max(1, acting.length);
  const tracks: Track[] = acting.map((metric) => ({ metric, value: selector(metric.name), baseline: viewFor(metric), canary: viewFor(metric) }));
  const seq = { alpha, minSamples: o.spec.minSamples, plannedSamples: o.spec.plannedSamples, method: 'sequential' as const };
  const naive = { ...seq, method: 'fixed' as const };
  const every = o.quantileLookEvery ?? 1;
  let failedAt: number | null = null;
  let canaryAtFail: number | null = null;
  let failedMetric: string | null = null;
  let naiveFailedAt: number | null = null;
  let srmAt: number | null = null;
  let nc = 0;
  let t = 0;
  while (t < o.maxSessions) {
    t++;
    const canary = rng.bernoulli(o.canaryShare);
    if (canary) nc++;
    const s = draw(rng, canary ? o.canary : o.baseline);
    for (const k of tracks) record(canary ? k.canary : k.baseline, k.value(s));
    for (const k of tracks) {
      if (k.metric.kind === 'quantile' && t % every !== 0) continue;
      if (failedAt === null && compareMetric(k.metric, k.baseline, k.canary, seq).verdict === 'fail') {
        failedAt = t;
        canaryAtFail = nc;
        failedMetric = k.metric.name;
      }
      if (o.naive && naiveFailedAt === null && compareMetric(k.metric, k.baseline, k.canary, naive).verdict === 'fail') naiveFailedAt = t;
    }
    if (srmAt === null && t % 100 === 0 && srmCheck(t - nc, nc, o.canaryShare, SRM_ALPHA).mismatch) srmAt = t;
    if (failedAt !== null && (o.stopAtFirstFail || !o.naive || naiveFailedAt !== null)) break;
  }
  return { failedAt, canaryAtFail, failedMetric, naiveFailedAt, srmAt, sessions: t };
}

export interface ScenarioSummary {
  rollouts: number;
  /** share of rollouts in which the sequential analysis said fail */
  failRate: number;
  naiveFailRate: number;
  srmRate: number;
  /** over rollouts that failed: total sessions and canary sessions at the first fail */
  sessionsToFail: { median: number | null; p95: number | null };
  canarySessionsToFail: { median: number | null; p95: number | null };
  failedMetrics: Record<string, number>;
}

const quantileOf = (xs: number[], q: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

/** Runs rollouts [from, to) of a scenario. */
export function simulateRollouts(o: ScenarioOptions, from = 0, to = o.rollouts): RolloutOutcome[] {
  const out: RolloutOutcome[] = [];
  for (let i = from; i < to; i++) out.push(simulateRollout(o, rolloutRng(o.seed, i)));
  return out;
}

export function summarize(outcomes: RolloutOutcome[]): ScenarioSummary {
  const n = outcomes.length;
  const failed = outcomes.filter((r) => r.failedAt !== null);
  const failedMetrics: Record<string, number> = {};
  for (const r of failed) failedMetrics[r.failedMetric!] = (failedMetrics[r.failedMetric!] ?? 0) + 1;
  return {
    rollouts: n,
    failRate: failed.length / n,
    naiveFailRate: outcomes.filter((r) => r.naiveFailedAt !== null).length / n,
    srmRate: outcomes.filter((r) => r.srmAt !== null).length / n,
    sessionsToFail: { median: quantileOf(failed.map((r) => r.failedAt!), 0.5), p95: quantileOf(failed.map((r) => r.failedAt!), 0.95) },
    canarySessionsToFail: { median: quantileOf(failed.map((r) => r.canaryAtFail!), 0.5), p95: quantileOf(failed.map((r) => r.canaryAtFail!), 0.95) },
    failedMetrics,
  };
}

export const simulateScenario = (o: ScenarioOptions): ScenarioSummary => summarize(simulateRollouts(o));
