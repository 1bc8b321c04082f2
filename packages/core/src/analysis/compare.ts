/**
 * The numeric core of a verdict: one metric, canary against baseline, on cumulative samples.
 * No strings and no allocation beyond the result, because the bench calls it after every
 * simulated session; `evaluate()` wraps it with counts, estimates and the rule that fired.
 */
import { Histogram } from './histogram.js';
import { meanVariance, type MeanSample, type MetricSample, type ProportionSample } from './samples.js';
import type { ResolvedMetric } from './spec.js';
import { csRadius, rhoFor } from './stats/confidence-sequence.js';
import { normalQuantile } from './stats/normal.js';

export type Verdict = 'fail' | 'pass' | 'inconclusive' | 'nodata';
export type IntervalScale = 'difference' | 'relative' | 'exceedance';
export type SloStatus = 'breached' | 'met' | 'unproven';

/** A metric sample as `compareMetric` reads it: quantile samples as a live Histogram. */
export type MetricView = ProportionSample | MeanSample | { kind: 'quantile'; histogram: Histogram };

export interface CompareOptions {
  /** α for this metric (already split across metrics). */
  alpha: number;
  minSamples: number;
  plannedSamples: number;
  /**
   * `sequential` (default): the anytime-valid CS. `fixed`: a fixed-horizon z interval, invalid
   * under repeated looks; it exists so the bench can show what naive peeking costs.
   */
  method?: 'sequential' | 'fixed';
}

export interface Comparison {
  verdict: Verdict;
  /** Why: which test decided (`tolerance`, `slo`), or what was missing. */
  reason: 'tolerance' | 'slo' | 'within' | 'open' | 'slo-estimate' | 'min-samples' | 'missing';
  nBaseline: number;
  nCanary: number;
  /** Metric-unit estimates (quantile for quantile metrics). */
  baseline: number;
  canary: number;
  scale: IntervalScale;
  /** The interval on `scale`, and the tolerance bound on the same scale. */
  estimate: number;
  lower: number;
  upper: number;
  bound: number;
  /** Variance of `estimate` and the mixing variance τ² that make the mSPRT dual to the CS. */
  variance: number;
  tau2: number;
  /** Quantile metrics: the tolerated threshold in metric units that exceedance is counted above/below. */
  threshold: number | undefined;
  slo:
    | {
    status: SloStatus;
    /** canary level (mean or share), or for quantile metrics the share beyond the SLO value */
    estimate: number;
    lower: number;
    upper: number;
    /** quantile metrics: the share allowed beyond the SLO value (1 − q for max, q for min) */
    nominal?: number;
    /** the point estimate is on the good side of the SLO (needed to pass) */
    estimateWithin: boolean;
  }
    | undefined;
}

/** Variance of a share, from (x+1)/(n+2) so a cohort with no events yet still carries uncertainty. */
const shareVariance = (x: number, n: number): number => {
  const p = (x + 1) / (n + 2);
  return p * (1 - p);
};

const sizeOf = (s: MetricView | undefined): number => (s === undefined ? 0 : s.kind === 'quantile' ? s.histogram.count : s.n);

export function toView(s: MetricSample | undefined): MetricView | undefined {
  return s === undefined ? undefined : s.kind === 'quantile' ? { kind: 'quantile', histogram: Histogram.from(s.histogram) } : s;
}

/** Half-width for a mean of t units with per-unit sd σ: the CS, or the naive z interval. */
function radius(t: number, sigma: number, alpha: number, method: CompareOptions['method'], rho: number): number {
  return method === 'fixed' ? (normalQuantile(1 - alpha / 2) * sigma) / Math.sqrt(t) : csRadius(t, sigma, alpha, rho);
}

function noData(reason: 'missing' | 'min-samples', nBaseline: number, nCanary: number): Comparison {
  return { verdict: 'nodata', reason, nBaseline, nCanary, baseline: NaN, canary: NaN, scale: 'difference', estimate: NaN, lower: -Infinity, upper: Infinity, bound: 0, variance: NaN, tau2: NaN, threshold: undefined, slo: undefined };
}

/**
 * Compares canary with baseline for one metric. With an SLO, the tolerance test and the SLO
 * test each get α/2 (Bonferroni inside the metric). Written to allocate one object per call:
 * the bench calls it tens of millions of times.
 */
export function compareMetric(metric: ResolvedMetric, baseline: MetricView | undefined, canary: MetricView | undefined, o: CompareOptions): Comparison {
  const nBaseline = sizeOf(baseline);
  const nCanary = sizeOf(canary);
  if (!baseline || !canary) return noData('missing', nBaseline, nCanary);
  if (nBaseline < o.minSamples || nCanary < o.minSamples) return noData('min-samples', nBaseline, nCanary);
  const alpha = metric.slo ? o.alpha / 2 : o.alpha;
  const rho = rhoFor(o.plannedSamples, alpha);
  const lowerIsBetter = metric.better === 'lower';
  const tol = metric.tolerance;
  const t = nBaseline + nCanary;

  let scale: IntervalScale;
  let bEst: number;
  let cEst: number;
  let estimate: number;
  let v: number;
  let bound: number;
  let threshold: number | undefined;
  if (baseline.kind === 'quantile' && canary.kind === 'quantile') {
    // Quantiles through exceedance: canary's q-quantile is above T exactly when more than 1 − q
    // of canary observations are above T. T is the tolerated level, the baseline's quantile
    // moved by the tolerance; the baseline side keeps the binomial variance q(1 − q)/n_b of its
    // own quantile estimate on the probability scale (Bahadur's representation).
    const q = metric.q ?? 0.5;
    bEst = baseline.histogram.quantile(q);
    cEst = canary.histogram.quantile(q);
    const shift = 'absolute' in tol ? tol.absolute : tol.relative * Math.abs(bEst);
    threshold = lowerIsBetter ? bEst + shift : bEst - shift;
    const above = canary.histogram.countAbove(threshold);
    const bad = lowerIsBetter ? above : nCanary - above; // canary observations on the bad side of T
    estimate = bad / nCanary - (lowerIsBetter ? 1 - q : q);
    v = shareVariance(bad, nCanary) / nCanary + (q * (1 - q)) / nBaseline;
    scale = 'exceedance';
    bound = 0;
  } else if (baseline.kind !== 'quantile' && canary.kind !== 'quantile') {
    let bVar: number;
    let cVar: number;
    [bEst, bVar] = pointEstimate(baseline);
    [cEst, cVar] = pointEstimate(canary);
    if ('relative' in tol && bEst > 0) {
      // GrowthBook's delta-method variance of the lift (stats/relative-lift.ts).
      estimate = cEst / bEst - 1;
      v = cVar / (bEst * bEst * nCanary) + (bVar * cEst * cEst) / (bEst * bEst * bEst * bEst * nBaseline);
      bound = lowerIsBetter ? tol.relative : -tol.relative;
      scale = 'relative';
    } else {
      estimate = cEst - bEst;
      v = cVar / nCanary + bVar / nBaseline;
      const b = 'absolute' in tol ? tol.absolute : 0; // relative to a zero baseline: no room
      bound = lowerIsBetter ? b : -b;
      scale = 'difference';
    }
  } else {
    throw new TypeError(`metric ${metric.name}: baseline is ${baseline.kind} but canary is ${canary.kind}`);
  }
  const sigma2 = t * v;
  const r = radius(t, Math.sqrt(sigma2), alpha, o.method, rho);
  const lower = estimate - r;
  const upper = estimate + r;

  const slo = metric.slo ? sloCheck(metric, canary, alpha, o.method, rho) : undefined;
  const failTol = lowerIsBetter ? lower > bound : upper < bound;
  const passTol = lowerIsBetter ? upper < bound : lower > bound;
  let verdict: Verdict = 'inconclusive';
  let reason: Comparison['reason'] = 'open';
  if (failTol) {
    verdict = 'fail';
    reason = 'tolerance';
  } else if (slo?.status === 'breached') {
    verdict = 'fail';
    reason = 'slo';
  } else if (passTol && (!slo || slo.estimateWithin)) {
    verdict = 'pass';
    reason = 'within';
  } else if (passTol) reason = 'slo-estimate';
  return { verdict, reason, nBaseline, nCanary, baseline: bEst, canary: cEst, scale, estimate, lower, upper, bound, variance: v, tau2: sigma2 * rho * rho, threshold, slo };
}

/**
 * Absolute SLO on the canary alone: a one-sample CS on its level (mean or share), or for a
 * quantile metric on the share of observations beyond the SLO value against the nominal 1 − q
 * (`max`) or q (`min`). `breached` and `met` are proven; `unproven` is neither.
 */
function sloCheck(metric: ResolvedMetric, canary: MetricView, alpha: number, method: CompareOptions['method'], rho: number): NonNullable<Comparison['slo']> {
  const slo = metric.slo!;
  const isMax = 'max' in slo;
  const limit = isMax ? slo.max : slo.min;
  let estimate: number;
  let variance: number;
  let n: number;
  let nominal: number | undefined;
  let badIsHigh = isMax;
  let target = limit;
  if (canary.kind === 'quantile') {
    const q = metric.q ?? 0.5;
    n = canary.histogram.count;
    const above = canary.histogram.countAbove(limit);
    // a max SLO on p95 is breached when more than 5% are above it; a min SLO when more than q are below it
    const bad = isMax ? above : n - above;
    estimate = bad / n;
    variance = shareVariance(bad, n);
    nominal = isMax ? 1 - q : q;
    target = nominal;
    badIsHigh = true;
  } else {
    n = canary.n;
    estimate = canary.kind === 'proportion' ? canary.x / canary.n : canary.sum / canary.n;
    variance = canary.kind === 'proportion' ? shareVariance(canary.x, canary.n) : meanVariance(canary);
  }
  const r = radius(n, Math.sqrt(variance), alpha, method, rho);
  const lower = estimate - r;
  const upper = estimate + r;
  const status: SloStatus = badIsHigh ? (lower > target ? 'breached' : upper <= target ? 'met' : 'unproven') : upper < target ? 'breached' : lower >= target ? 'met' : 'unproven';
  const estimateWithin = badIsHigh ? estimate <= target : estimate >= target;
  return { status, estimate, lower, upper, ...(nominal !== undefined ? { nominal } : {}), estimateWithin };
}

/** A proportion's or a mean's estimate and the variance of one observation. */
function pointEstimate(s: Exclude<MetricSample, { kind: 'quantile' }>): [estimate: number, variance: number] {
  return s.kind === 'proportion' ? [s.x / s.n, shareVariance(s.x, s.n)] : [s.sum / s.n, meanVariance(s)];
}
