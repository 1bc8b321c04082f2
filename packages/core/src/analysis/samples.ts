/**
 * What the telemetry aggregator hands to `evaluate()`: per cohort and per metric, sufficient
 * statistics, for the window that just closed and cumulatively since the step began. Everything
 * here is plain JSON, mergeable by addition, so gateways and ingest replicas can pre-aggregate.
 *
 * - proportion `{n, x}`: n units (sessions, requests, tool calls), x of them "yes".
 * - mean `{n, sum, sumSq}`: n units with their sum and sum of squares (merge = add; variance via
 *   the stable two-pass-equivalent formula in `meanVariance`).
 * - quantile `{histogram}`: a log-bucketed histogram (histogram.ts) of every observation.
 *
 * `sessions` per cohort feeds the sample-ratio-mismatch check; `expectedCanaryShare` is the
 * share of new units the router sends to the canary (weight / 100) for the span `cumulative`
 * covers. Cumulative samples must cover one constant weight: reset them when the weight changes.
 */
import { Histogram, type HistogramData } from './histogram.js';
import type { MetricKind } from './spec.js';

export interface ProportionSample {
  kind: 'proportion';
  n: number;
  x: number;
}

export interface MeanSample {
  kind: 'mean';
  n: number;
  sum: number;
  sumSq: number;
}

export interface QuantileSample {
  kind: 'quantile';
  histogram: HistogramData;
}

export type MetricSample = ProportionSample | MeanSample | QuantileSample;

export interface CohortSample {
  /** Units (sessions by default) the router assigned to this cohort and that sent anything. */
  sessions: number;
  /** Keyed by metric name as in the spec (built-in or custom). A missing metric is `nodata`. */
  metrics: Record<string, MetricSample>;
}

export interface CohortPair {
  baseline: CohortSample;
  canary: CohortSample;
}

export interface AnalysisWindow {
  /** 0-based index of the window within the current step. */
  index: number;
  /** ISO 8601 start and end of the window. */
  start: string;
  end: string;
  /** Share of new units routed to the canary over the span `cumulative` covers, in (0, 1). */
  expectedCanaryShare: number;
  /** Only this window's observations. */
  window: CohortPair;
  /** Every observation since the step began (or since the weight last changed). */
  cumulative: CohortPair;
}

export const emptySample = (kind: MetricKind): MetricSample =>
  kind === 'proportion'
    ? { kind, n: 0, x: 0 }
    : kind === 'mean'
      ? { kind, n: 0, sum: 0, sumSq: 0 }
      : { kind, histogram: { zero: 0, bins: [] } };

export const emptyCohort = (): CohortSample => ({ sessions: 0, metrics: {} });

/** Records one observation into a proportion or mean sample, in place (hot path). */
export function observe(sample: ProportionSample | MeanSample, value: number | boolean): void {
  if (sample.kind === 'proportion') {
    sample.n += 1;
    if (value === true || (typeof value === 'number' && value > 0)) sample.x += 1;
  } else {
    const v = Number(value);
    sample.n += 1;
    sample.sum += v;
    sample.sumSq += v * v;
  }
}

/** The sum of two samples of the same kind. */
export function mergeSamples(a: MetricSample, b: MetricSample): MetricSample {
  if (a.kind === 'proportion' && b.kind === 'proportion') return { kind: 'proportion', n: a.n + b.n, x: a.x + b.x };
  if (a.kind === 'mean' && b.kind === 'mean') return { kind: 'mean', n: a.n + b.n, sum: a.sum + b.sum, sumSq: a.sumSq + b.sumSq };
  if (a.kind === 'quantile' && b.kind === 'quantile') return { kind: 'quantile', histogram: Histogram.from(a.histogram).merge(b.histogram).toJSON() };
  throw new TypeError(`cannot merge a ${a.kind} sample with a ${b.kind} sample`);
}

/** The sum of two cohort samples: sessions add, metrics merge by name. */
export function mergeCohorts(a: CohortSample, b: CohortSample): CohortSample {
  const metrics: Record<string, MetricSample> = { ...a.metrics };
  for (const [name, s] of Object.entries(b.metrics)) metrics[name] = metrics[name] ? mergeSamples(metrics[name], s) : s;
  return { sessions: a.sessions + b.sessions, metrics };
}

/** Observations in a sample. */
export function sampleSize(s: MetricSample): number {
  return s.kind === 'quantile' ? s.histogram.zero + s.histogram.bins.reduce((t, [, c]) => t + c, 0) : s.n;
}

/** Mean of a mean sample (NaN when empty). */
export const sampleMean = (s: MeanSample): number => (s.n > 0 ? s.sum / s.n : NaN);

/** Unbiased variance of a mean sample, clamped at 0 against rounding (0 below two observations). */
export function meanVariance(s: MeanSample): number {
  if (s.n < 2) return 0;
  const m = s.sum / s.n;
  return Math.max(0, (s.sumSq - s.n * m * m) / (s.n - 1));
}
