/**
 * One analysis step: given the spec, the window that just closed (per-window and cumulative
 * cohort samples) and the results of the earlier windows of the same step, judge every metric
 * and decide: roll back (or pause) at once on a proven regression, advance after every acting
 * metric has passed for `consecutive` windows, else continue. Pure: the server's analysis loop
 * persists the result and acts on `decision`.
 *
 * Every number that led to a decision is in the result, which is plain JSON (non-finite
 * numbers become null).
 */
import { compareMetric, toView, type Comparison, type IntervalScale, type SloStatus, type Verdict } from './compare.js';
import { sampleMean, sampleSize, type AnalysisWindow, type CohortPair, type MetricSample } from './samples.js';
import { resolveMetric, type AnalysisSpec, type Better, type MetricKind, type MetricSource, type Slo, type Tolerance } from './spec.js';
import { Histogram } from './histogram.js';
import { alwaysValidP } from './stats/msprt.js';
import { srmCheck } from './stats/srm.js';
import { invalid, type ErrorDetail } from '../errors/errors.js';

export type AnalysisDecision = 'rollback' | 'pause' | 'advance' | 'continue';

/** α for the sample-ratio-mismatch check: small, because a false alarm pauses the rollout. */
export const SRM_ALPHA = 0.001;

export interface CohortCounts {
  /** observations (sessions, requests, tool calls) */
  n: number;
  /** proportion metrics: how many were "yes" */
  x?: number;
  /** the metric's value in this cohort: share, mean, or the q-quantile */
  estimate: number | null;
}

export interface MetricResult {
  name: string;
  source: MetricSource;
  kind: MetricKind;
  q?: number;
  better: Better;
  dryRun: boolean;
  /** α this metric was tested at (the spec's α split across acting metrics) */
  alpha: number;
  counts: {
    cumulative: { baseline: CohortCounts; canary: CohortCounts };
    window: { baseline: CohortCounts; canary: CohortCounts };
  };
  estimate: { baseline: number | null; canary: number | null; difference: number | null; relative: number | null };
  /** the anytime-valid interval the verdict reads, on its scale, with the tolerance bound on the same scale */
  interval: { scale: IntervalScale; method: string; estimate: number | null; lower: number | null; upper: number | null; bound: number; threshold?: number } | null;
  tolerance: Tolerance;
  slo?: { spec: Slo; status: SloStatus; estimate: number | null; lower: number | null; upper: number | null; nominal?: number };
  /** always-valid p-value (mSPRT, running minimum over this step's windows) for "no difference" on the interval's scale */
  pValue: number | null;
  verdict: Verdict;
  /** the rule that fired, as a sentence */
  rule: string;
  /** consecutive windows (including this one) with verdict pass */
  passStreak: number;
}

export interface AnalysisResult {
  window: { index: number; start: string; end: string };
  alpha: number;
  /** acting (non-dryRun) metrics share α equally (Bonferroni) */
  alphaPerMetric: number;
  consecutive: number;
  srm: ReturnType<typeof srmCheck> & { rule: string };
  metrics: MetricResult[];
  /** consecutive windows in which every acting metric passed */
  passStreak: number;
  decision: AnalysisDecision;
  reason: string;
}

const METHOD: Record<IntervalScale, string> = {
  difference: 'asymptotic CS (Waudby-Smith et al.) for canary − baseline',
  relative: 'asymptotic CS for canary/baseline − 1, delta-method variance (GrowthBook)',
  exceedance: 'asymptotic CS for the canary share beyond the tolerated baseline quantile, minus the nominal share',
};

const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);
const fmt = (x: number): string => (Number.isFinite(x) ? (Math.abs(x) >= 1000 || x === Math.round(x) ? String(Math.round(x * 100) / 100) : Number(x.toPrecision(4)).toString()) : String(x));
const pct = (x: number): string => `${Number((x * 100).toPrecision(3))}%`;

function counts(s: MetricSample | undefined, q: number | undefined): CohortCounts {
  if (!s) return { n: 0, estimate: null };
  if (s.kind === 'proportion') return { n: s.n, x: s.x, estimate: s.n > 0 ? s.x / s.n : null };
  if (s.kind === 'mean') return { n: s.n, estimate: fin(sampleMean(s)) };
  const n = sampleSize(s);
  return { n, estimate: n > 0 ? fin(Histogram.from(s.histogram).quantile(q ?? 0.5)) : null };
}

function describeTolerance(t: Tolerance, better: Better): string {
  const sign = better === 'lower' ? '+' : '−';
  return 'absolute' in t ? `${sign}${fmt(t.absolute)} absolute` : `${sign}${pct(t.relative)} of baseline`;
}

function ruleFor(name: string, m: ReturnType<typeof resolveMetric>, c: Comparison, alpha: number, minSamples: number): string {
  if (c.reason === 'missing') return `${name}: no ${c.nBaseline === 0 && c.nCanary === 0 ? 'observations in either cohort' : c.nCanary === 0 ? 'canary observations' : 'baseline observations'} yet`;
  if (c.reason === 'min-samples') return `${name}: ${c.nCanary} canary and ${c.nBaseline} baseline observations; at least ${minSamples} per cohort are needed`;
  const level = `${pct(1 - (m.slo ? alpha / 2 : alpha))} anytime-valid interval`;
  const tol = describeTolerance(m.tolerance, m.better);
  const worse = m.better === 'lower' ? 'above' : 'below';
  const iv = `[${fmt(c.lower)}, ${fmt(c.upper)}]`;
  const what =
    c.scale === 'exceedance'
      ? `share of canary observations ${m.better === 'lower' ? 'above' : 'below'} ${fmt(c.threshold!)} (baseline p${Math.round((m.q ?? 0.5) * 100)} ${fmt(c.baseline)} moved by the tolerance ${tol}) minus the nominal ${pct(m.better === 'lower' ? 1 - (m.q ?? 0.5) : (m.q ?? 0.5))}`
      : c.scale === 'relative'
        ? 'canary/baseline − 1'
        : 'canary − baseline';
  const bound = c.scale === 'exceedance' ? '0' : `the tolerance ${tol} (${fmt(c.bound)})`;
  switch (c.reason) {
    case 'tolerance':
      return `${name}: regression proven: ${what} is ${worse} ${bound}; ${level} ${iv}`;
    case 'slo': {
      const s = c.slo!;
      return `${name}: canary breaches its SLO ${JSON.stringify(m.slo)}: ${c.scale === 'exceedance' ? `share beyond it ${fmt(s.estimate)}, interval [${fmt(s.lower)}, ${fmt(s.upper)}] against ${fmt(s.nominal ?? 0)}` : `level ${fmt(s.estimate)}, interval [${fmt(s.lower)}, ${fmt(s.upper)}]`}`;
    }
    case 'within':
      return `${name}: non-inferiority proven: ${what} stays on the good side of ${bound}; ${level} ${iv}`;
    case 'slo-estimate':
      return `${name}: within tolerance, but the canary's estimate ${fmt(c.slo!.estimate)} is on the wrong side of its SLO ${JSON.stringify(m.slo)}`;
    default:
      return `${name}: not proven either way: ${what} ${fmt(c.estimate)}, ${level} ${iv} contains ${bound}`;
  }
}

/** Rejects input the aggregator got wrong, naming the field, rather than judging nonsense. */
function checkWindow(window: AnalysisWindow, metrics: ReturnType<typeof resolveMetric>[]): void {
  const details: ErrorDetail[] = [];
  const share = window.expectedCanaryShare;
  if (!(share > 0 && share < 1)) details.push({ where: 'window.expectedCanaryShare', message: `must be in (0, 1), got ${share}` });
  for (const span of ['window', 'cumulative'] as const)
    for (const cohort of ['baseline', 'canary'] as const) {
      const c = window[span][cohort];
      if (!(c.sessions >= 0)) details.push({ where: `window.${span}.${cohort}.sessions`, message: `must be a count, got ${c.sessions}` });
      for (const m of metrics) {
        const s = c.metrics[m.name];
        if (s && s.kind !== m.kind) details.push({ where: `window.${span}.${cohort}.metrics.${m.name}`, message: `the spec declares a ${m.kind} metric but the sample is ${s.kind}` });
      }
    }
  if (details.length > 0) throw invalid(`analysis window ${window.index}: ${details[0]!.where}: ${details[0]!.message}`, details);
}

/** The samples of one cohort pair for one metric, or undefined. */
const pick = (pair: CohortPair, name: string) => ({ baseline: pair.baseline.metrics[name], canary: pair.canary.metrics[name] });

/**
 * Judges one closed window. `history` holds this step's earlier results, oldest first (only the
 * last is read: it carries the streaks and the running minimum of the p-values).
 */
export function evaluate(spec: AnalysisSpec, window: AnalysisWindow, history: readonly AnalysisResult[] = []): AnalysisResult {
  const previous = history[history.length - 1];
  const resolved = spec.metrics.map(resolveMetric);
  checkWindow(window, resolved);
  const acting = resolved.filter((m) => !m.dryRun).length;
  const alphaPerMetric = spec.alpha / Math.max(1, acting);

  const metrics = resolved.map((m): MetricResult => {
    const cum = pick(window.cumulative, m.name);
    const win = pick(window.window, m.name);
    const c = compareMetric(m, toView(cum.baseline), toView(cum.canary), { alpha: alphaPerMetric, minSamples: spec.minSamples, plannedSamples: spec.plannedSamples });
    const prev = previous?.metrics.find((p) => p.name === m.name);
    const judged = c.verdict !== 'nodata';
    const pValue = judged && c.variance > 0 ? alwaysValidP(prev?.pValue ?? 1, c.estimate, c.variance, c.tau2) : (prev?.pValue ?? null);
    const bq = counts(cum.baseline, m.q).estimate;
    const cq = counts(cum.canary, m.q).estimate;
    return {
      name: m.name,
      source: m.source,
      kind: m.kind,
      ...(m.q !== undefined ? { q: m.q } : {}),
      better: m.better,
      dryRun: m.dryRun,
      alpha: alphaPerMetric,
      counts: {
        cumulative: { baseline: counts(cum.baseline, m.q), canary: counts(cum.canary, m.q) },
        window: { baseline: counts(win.baseline, m.q), canary: counts(win.canary, m.q) },
      },
      estimate: {
        baseline: bq,
        canary: cq,
        difference: bq !== null && cq !== null ? fin(cq - bq) : null,
        relative: bq !== null && cq !== null && bq !== 0 ? fin(cq / bq - 1) : null,
      },
      interval: judged
        ? {
            scale: c.scale,
            method: METHOD[c.scale],
            estimate: fin(c.estimate),
            lower: fin(c.lower),
            upper: fin(c.upper),
            bound: c.bound,
            ...(c.threshold !== undefined ? { threshold: c.threshold } : {}),
          }
        : null,
      tolerance: m.tolerance,
      ...(m.slo
        ? {
            slo: {
              spec: m.slo,
              status: c.slo?.status ?? 'unproven',
              estimate: c.slo ? fin(c.slo.estimate) : null,
              lower: c.slo ? fin(c.slo.lower) : null,
              upper: c.slo ? fin(c.slo.upper) : null,
              ...(c.slo?.nominal !== undefined ? { nominal: c.slo.nominal } : {}),
            },
          }
        : {}),
      pValue: pValue === null ? null : fin(pValue),
      verdict: c.verdict,
      rule: ruleFor(m.name, m, c, alphaPerMetric, spec.minSamples),
      passStreak: c.verdict === 'pass' ? (prev?.passStreak ?? 0) + 1 : 0,
    };
  });

  const { baseline, canary } = window.cumulative;
  const srmRaw = srmCheck(baseline.sessions, canary.sessions, window.expectedCanaryShare, SRM_ALPHA, previous?.srm.pValue ?? 1);
  const srm = {
    ...srmRaw,
    logBayesFactor: fin(srmRaw.logBayesFactor) ?? 0,
    rule: srmRaw.mismatch
      ? `sample ratio mismatch: canary has ${pct(srmRaw.observedCanaryShare ?? 0)} of ${baseline.sessions + canary.sessions} sessions, expected ${pct(window.expectedCanaryShare)} (always-valid p ${srmRaw.pValue.toExponential(2)} ≤ ${SRM_ALPHA})`
      : `split consistent with ${pct(window.expectedCanaryShare)} (always-valid p ${fmt(srmRaw.pValue)})`,
  };

  const act = metrics.filter((m) => !m.dryRun);
  const failing = act.filter((m) => m.verdict === 'fail');
  const allPass = act.every((m) => m.verdict === 'pass');
  const passStreak = allPass && !srm.mismatch ? (previous?.passStreak ?? 0) + 1 : 0;
  let decision: AnalysisDecision;
  let reason: string;
  if (srm.mismatch) {
    decision = 'pause';
    reason = `${srm.rule}: the split itself is broken, so no verdict is trusted; paused for a human to look`;
  } else if (failing.length > 0) {
    decision = spec.onRegression;
    reason = `${spec.onRegression === 'rollback' ? 'rolling back' : 'pausing'} (onRegression: ${spec.onRegression}): ${failing.map((m) => m.rule).join('; ')}`;
  } else if (allPass && passStreak >= spec.consecutive) {
    decision = 'advance';
    reason = `every acting metric passed for ${passStreak} consecutive window${passStreak === 1 ? '' : 's'} (needed ${spec.consecutive})`;
  } else {
    decision = 'continue';
    const waiting = act.filter((m) => m.verdict !== 'pass');
    reason = allPass
      ? `every acting metric passes: ${passStreak} of ${spec.consecutive} consecutive windows`
      : `waiting on ${waiting.map((m) => `${m.name} (${m.verdict})`).join(', ')}`;
  }
  return { window: { index: window.index, start: window.start, end: window.end }, alpha: spec.alpha, alphaPerMetric, consecutive: spec.consecutive, srm, metrics, passStreak, decision, reason };
}
