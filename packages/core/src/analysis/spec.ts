/**
 * The analysis spec: the `analysis:` field of a rollout plan. It says which metrics compare the
 * canary with the baseline, in which direction "better" lies, how much worse the canary may be
 * (the tolerance), absolute SLOs on the canary, how often to judge and how many passing windows
 * promote a step. `evaluate()` (evaluate.ts) applies it to per-cohort samples (samples.ts).
 */
import { z } from 'zod';
import { invalid, type ErrorDetail } from '../errors/errors.js';

/**
 * Metrics the telemetry aggregator provides for every rollout, with their natural kind and
 * direction. A metric whose `name` is one of these needs no `source`.
 *
 * | name | kind | unit of observation | better |
 * |---|---|---|---|
 * | error_rate | proportion | request: gateway 5xx / transport error / upstream timeout | lower |
 * | escalation_rate | proportion | session: outcome `escalated` | lower |
 * | resolved_rate | proportion | session: outcome `resolved` | higher |
 * | failed_rate | proportion | session: outcome `failed` | lower |
 * | abandoned_rate | proportion | session: outcome `abandoned` | lower |
 * | latency_p50, latency_p95, latency_p99 | quantile q=.5/.95/.99 | request: gateway latency, ms | lower |
 * | ttfb_p95 | quantile q=.95 | request: gateway time to first byte, ms | lower |
 * | tokens_per_session | mean | session: input + output tokens | lower |
 * | cost_per_session | mean | session: USD from the price table | lower |
 * | tool_calls_per_session | mean | session: `execute_tool` spans | lower |
 * | tool_error_rate | proportion | tool call: `execute_tool` span with `error.type` | lower |
 * | feedback_score | mean | session: last `sluice.feedback.score` (sessions with a score) | higher |
 */
export const BUILTIN_METRICS = {
  error_rate: { kind: 'proportion', better: 'lower' },
  escalation_rate: { kind: 'proportion', better: 'lower' },
  resolved_rate: { kind: 'proportion', better: 'higher' },
  failed_rate: { kind: 'proportion', better: 'lower' },
  abandoned_rate: { kind: 'proportion', better: 'lower' },
  latency_p50: { kind: 'quantile', q: 0.5, better: 'lower' },
  latency_p95: { kind: 'quantile', q: 0.95, better: 'lower' },
  latency_p99: { kind: 'quantile', q: 0.99, better: 'lower' },
  ttfb_p95: { kind: 'quantile', q: 0.95, better: 'lower' },
  tokens_per_session: { kind: 'mean', better: 'lower' },
  cost_per_session: { kind: 'mean', better: 'lower' },
  tool_calls_per_session: { kind: 'mean', better: 'lower' },
  tool_error_rate: { kind: 'proportion', better: 'lower' },
  feedback_score: { kind: 'mean', better: 'higher' },
} as const satisfies Record<string, { kind: MetricKind; q?: number; better: Better }>;

export type BuiltinMetricName = keyof typeof BUILTIN_METRICS;
export const BUILTIN_METRIC_NAMES = Object.keys(BUILTIN_METRICS) as BuiltinMetricName[];

export type MetricKind = 'proportion' | 'mean' | 'quantile';
export type Better = 'lower' | 'higher';

/** `30s`, `1m`, `5m`, `1h`, `250ms`: the evaluation interval. */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Milliseconds in a duration such as `1m`; throws `invalid` naming `where`. */
export function durationMs(text: string, where = 'interval'): number {
  const m = DURATION.exec(text);
  if (!m) throw invalid(`${where}: "${text}" is not a duration such as 30s, 1m or 1h`, [{ where, message: 'expected <number><ms|s|m|h>' }]);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

const metricName = z.string().regex(/^[a-z][a-z0-9_.-]*$/, 'lower-case letters, digits, "_", "." or "-", starting with a letter');

/**
 * Where a custom metric's observations come from. For a proportion, a unit counts as a success
 * when the value is present and truthy (or a number > 0); for a mean, the value per session
 * (summed over the session's spans/events); for a quantile, every value is one observation.
 */
export const MetricSourceSchema = z.union([
  z.enum(BUILTIN_METRIC_NAMES as [BuiltinMetricName, ...BuiltinMetricName[]]),
  z.strictObject({
    /** Span attribute, e.g. `app.refund.amount_usd`. */
    attribute: z.string().min(1),
    /** Only spans with this name, e.g. `execute_tool`; every span of the session when absent. */
    span: z.string().min(1).optional(),
  }),
  z.strictObject({
    /** Business event name from `POST /v1/events`, e.g. `csat`. */
    event: z.string().min(1),
    /** Numeric field of the event; when absent, the event's presence is the observation (1). */
    field: z.string().min(1).optional(),
  }),
]);
export type MetricSource = z.infer<typeof MetricSourceSchema>;

export const ToleranceSchema = z.union([
  /** Canary may be worse than baseline by at most this many metric units. */
  z.strictObject({ absolute: z.number().nonnegative() }),
  /** Canary may be worse by at most this share of the baseline's value (0.1 = 10%). */
  z.strictObject({ relative: z.number().nonnegative() }),
]);
export type Tolerance = z.infer<typeof ToleranceSchema>;

export const SloSchema = z.union([z.strictObject({ max: z.number() }), z.strictObject({ min: z.number() })]);
export type Slo = z.infer<typeof SloSchema>;

export const MetricSpecSchema = z
  .strictObject({
    name: metricName,
    /** Defaults to the built-in metric of the same name. */
    source: MetricSourceSchema.optional(),
    /** Defaults to the built-in metric's direction. */
    better: z.enum(['lower', 'higher']).optional(),
    tolerance: ToleranceSchema.default({ relative: 0 }),
    slo: SloSchema.optional(),
    /** Defaults to the built-in metric's kind. */
    kind: z.enum(['proportion', 'mean', 'quantile']).optional(),
    /** The quantile for `kind: quantile`, in (0, 1). */
    q: z.number().gt(0).lt(1).optional(),
    /** Reported, never acts: excluded from the decision and from α splitting. */
    dryRun: z.boolean().default(false),
  })
  .superRefine((m, ctx) => {
    const builtin = builtinOf(m.source ?? m.name);
    if (!builtin && m.source === undefined)
      ctx.addIssue({ code: 'custom', path: ['source'], message: `"${m.name}" is not a built-in metric (${BUILTIN_METRIC_NAMES.join(', ')}): give a source` });
    if (!builtin && m.kind === undefined) ctx.addIssue({ code: 'custom', path: ['kind'], message: 'a custom metric needs kind: proportion, mean or quantile' });
    if (!builtin && m.better === undefined) ctx.addIssue({ code: 'custom', path: ['better'], message: 'a custom metric needs better: lower or higher' });
    const kind = m.kind ?? builtin?.kind;
    const q = m.q ?? (builtin && 'q' in builtin ? builtin.q : undefined);
    if (kind === 'quantile' && q === undefined) ctx.addIssue({ code: 'custom', path: ['q'], message: 'a quantile metric needs q in (0, 1), e.g. 0.95' });
    if (kind !== undefined && kind !== 'quantile' && m.q !== undefined) ctx.addIssue({ code: 'custom', path: ['q'], message: `q applies to quantile metrics only, not ${kind}` });
    if (kind === 'proportion' && m.slo && !(('max' in m.slo ? m.slo.max : m.slo.min) >= 0 && ('max' in m.slo ? m.slo.max : m.slo.min) <= 1))
      ctx.addIssue({ code: 'custom', path: ['slo'], message: 'an SLO on a proportion is a share in [0, 1]' });
  });
export type MetricSpecInput = z.input<typeof MetricSpecSchema>;

export const AnalysisSpecSchema = z
  .strictObject({
    /** How often a window closes and the analysis judges, e.g. `1m`. */
    interval: z.string().regex(DURATION, 'a duration such as 30s, 1m or 1h').default('1m'),
    /** Consecutive windows in which every acting metric passes before the step advances. */
    consecutive: z.number().int().min(1).default(3),
    /** Family-wise error rate, split across acting (non-dryRun) metrics. */
    alpha: z.number().gt(0).lt(0.5).default(0.05),
    /** Per cohort: a metric with fewer observations in either cohort is `nodata`. */
    minSamples: z.number().int().min(1).default(30),
    /**
     * Sessions (both cohorts together) at which the confidence sequences are tightest: tunes the
     * mixing parameter ρ (see stats/confidence-sequence.ts). Narrower early, wider late if small.
     */
    plannedSamples: z.number().int().min(10).default(2000),
    metrics: z.array(MetricSpecSchema).min(1),
    onRegression: z.enum(['rollback', 'pause']).default('rollback'),
  })
  .superRefine((s, ctx) => {
    const seen = new Map<string, number>();
    s.metrics.forEach((m, i) => {
      const j = seen.get(m.name);
      if (j !== undefined) ctx.addIssue({ code: 'custom', path: ['metrics', i, 'name'], message: `duplicate metric "${m.name}" (also metrics[${j}])` });
      seen.set(m.name, i);
    });
  });
export type AnalysisSpecInput = z.input<typeof AnalysisSpecSchema>;
export type AnalysisSpec = z.output<typeof AnalysisSpecSchema>;
export type MetricSpec = AnalysisSpec['metrics'][number];

/** A metric spec with every default filled in from the built-in table. */
export interface ResolvedMetric {
  name: string;
  source: MetricSource;
  kind: MetricKind;
  q?: number;
  better: Better;
  tolerance: Tolerance;
  slo?: Slo;
  dryRun: boolean;
}

function builtinOf(source: MetricSource | string): (typeof BUILTIN_METRICS)[BuiltinMetricName] | undefined {
  return typeof source === 'string' && Object.hasOwn(BUILTIN_METRICS, source) ? BUILTIN_METRICS[source as BuiltinMetricName] : undefined;
}

export function resolveMetric(m: MetricSpec): ResolvedMetric {
  const source = m.source ?? (m.name as BuiltinMetricName);
  const builtin = builtinOf(source);
  const kind = m.kind ?? builtin?.kind;
  const better = m.better ?? builtin?.better;
  if (!kind || !better) throw invalid(`metric ${m.name}: kind and better are required for a custom metric`);
  const q = kind === 'quantile' ? (m.q ?? (builtin && 'q' in builtin ? builtin.q : undefined)) : undefined;
  return { name: m.name, source, kind, ...(q !== undefined ? { q } : {}), better, tolerance: m.tolerance, ...(m.slo ? { slo: m.slo } : {}), dryRun: m.dryRun };
}

/** `metrics[0].tolerance.relative` from a zod issue path, prefixed by `where`. */
export function issuePath(where: string, path: readonly PropertyKey[]): string {
  let out = where;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out;
}

/**
 * Parses and validates an analysis spec; throws `invalid` with one detail per problem, each
 * naming the field path (`analysis.metrics[1].tolerance`), prefixed by `where`.
 */
export function parseAnalysisSpec(input: unknown, where = 'analysis'): AnalysisSpec {
  const r = AnalysisSpecSchema.safeParse(input);
  if (r.success) return r.data;
  const details: ErrorDetail[] = r.error.issues.map((i) => ({ where: issuePath(where, i.path), message: i.message }));
  const first = details[0]!;
  throw invalid(`invalid analysis spec: ${first.where}: ${first.message}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}`, details);
}
