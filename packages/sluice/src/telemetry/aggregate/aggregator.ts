/**
 * The telemetry aggregator: spans, business events and gateway measurements in; per rollout,
 * per cohort, per evaluation window sufficient statistics out (`AnalysisWindow`, what core
 * `evaluate()` reads), plus the decision-path table. Everything lives in memory and is bounded:
 * open sessions per rollout, spans waiting for their session or release, trace → session links.
 * Whatever a bound refuses is counted (`counters`), never dropped silently.
 *
 * A session is folded into its cohort's window once it has been quiet for `sessionIdleMs`, or
 * for `settleMs` after it reported an outcome (a little slack for trailing spans and feedback).
 * Data for a session already folded is counted as `late` and not added.
 */
import {
  mergeCohorts,
  resolveMetric,
  type AnalysisSpec,
  type AnalysisWindow,
  type CohortPair,
  type CohortSample,
  type Cohort,
  type MetricKind,
} from '@sluice/core';
import { AttributionIndex, type TrackedRollout } from '../attribution.js';
import { spanFacts, type SpanFacts } from '../mapping.js';
import { OUTCOMES, isOutcome, type BusinessEvent, type MeasuredRequest, type Outcome, type Target } from '../model.js';
import type { DecodedBatch, SpanView } from '../otlp/span.js';
import { attr } from '../otlp/span.js';
import { PriceBook } from '../prices.js';
import { CohortAccumulator } from './cohort.js';
import { addSession, comparePaths, emptyPaths, type DecisionPaths, type PathCounts } from './paths.js';
import { SessionRecord } from './session.js';

export interface AggregatorOptions {
  prices?: PriceBook;
  /** Open sessions per rollout; beyond it new sessions are refused and counted. */
  maxSessionsPerRollout?: number;
  sessionIdleMs?: number;
  settleMs?: number;
  /** Spans and events waiting for their session or release to become known. */
  maxPending?: number;
  pendingTtlMs?: number;
  /** trace id → session links remembered for spans that carry no session of their own. */
  maxTraces?: number;
  now?: () => number;
}

/** A rollout telemetry aggregates for: who is in it and what its analysis reads. */
export interface AggregatedRollout extends TrackedRollout {
  analysis?: AnalysisSpec;
}

export interface TelemetryCounters {
  spansReceived: number;
  /** Spans with a session and a release nothing in play matches (after waiting `pendingTtlMs`). */
  spansUnattributed: number;
  /** Spans and events for sessions already folded into a window. */
  late: number;
  sessionsOverflow: number;
  pendingOverflow: number;
  eventsReceived: number;
  eventsUnattributed: number;
  requestsRecorded: number;
  requestsUnattributed: number;
  /** Tokens spent by models missing from the price table (counted in tokens, not in cost). */
  unpricedTokens: number;
}

const OUTCOME_METRIC: Record<Outcome, string> = {
  resolved: 'resolved_rate',
  escalated: 'escalation_rate',
  failed: 'failed_rate',
  abandoned: 'abandoned_rate',
};

const HISTOGRAM_ALIASES = { latency: ['latency_p50', 'latency_p95', 'latency_p99'], ttfb: ['ttfb_p95'] };

type Pending =
  | { kind: 'span'; span: SpanView; facts: SpanFacts; at: number }
  | { kind: 'event'; event: BusinessEvent; at: number };

interface CustomAttr {
  metric: string;
  attribute: string;
  span?: string;
}
interface CustomEvent {
  metric: string;
  event: string;
  field?: string;
}

class RolloutAggregate {
  readonly open = new Map<string, SessionRecord>();
  /** Sessions already folded, with when: late data for them is counted, not re-added. */
  readonly closed = new Map<string, number>();
  acc = new Map<Cohort, CohortAccumulator>();
  cumulative: CohortPair = { baseline: { sessions: 0, metrics: {} }, canary: { sessions: 0, metrics: {} } };
  paths = new Map<Cohort, PathCounts>();
  /** Paths of the sessions folded since the last `takePathDelta`. */
  pathDelta = new Map<Cohort, PathCounts>();
  windowIndex = 0;
  windowStart: number;
  stepKey: string | undefined;
  customAttrs: CustomAttr[] = [];
  customEvents: CustomEvent[] = [];
  customKinds = new Map<string, MetricKind>();
  /** spec metric name → built-in sample it reads, when the names differ. */
  aliases: [string, string][] = [];
  /** Last model each cohort's spans named. */
  readonly models = new Map<Cohort, string>();

  constructor(
    public info: AggregatedRollout,
    now: number,
  ) {
    this.windowStart = now;
    this.configure(info);
  }

  configure(info: AggregatedRollout): void {
    this.info = info;
    this.customAttrs = [];
    this.customEvents = [];
    this.customKinds.clear();
    this.aliases = [];
    for (const m of info.analysis?.metrics ?? []) {
      const r = resolveMetric(m);
      if (typeof r.source === 'string') {
        if (r.source !== r.name) this.aliases.push([r.name, r.source]);
        continue;
      }
      this.customKinds.set(r.name, r.kind);
      if ('attribute' in r.source) this.customAttrs.push({ metric: r.name, attribute: r.source.attribute, ...(r.source.span ? { span: r.source.span } : {}) });
      else this.customEvents.push({ metric: r.name, event: r.source.event, ...(r.source.field ? { field: r.source.field } : {}) });
    }
  }

  cohortAcc(cohort: Cohort): CohortAccumulator {
    let a = this.acc.get(cohort);
    if (!a) this.acc.set(cohort, (a = new CohortAccumulator()));
    return a;
  }

  /** The cohort compared with the baseline: the mirror for a shadow rollout, else the canary. */
  get treatment(): Cohort {
    return this.info.strategy === 'shadow' ? 'shadow' : 'canary';
  }
}

/**
 * Share of new units the router sends to the compared cohort at `weight` percent: the canary's
 * share, or for shadow (mirrored on top of the baseline) the mirror's share of all sessions seen.
 * Kept inside (0, 1), which the sample-ratio check needs.
 */
export function canaryShare(strategy: AggregatedRollout['strategy'], weight: number): number {
  const share = strategy === 'shadow' ? weight / (100 + weight) : weight / 100;
  return Math.min(0.9999, Math.max(0.0001, share));
}

export class TelemetryAggregator {
  readonly prices: PriceBook;
  readonly counters: TelemetryCounters = {
    spansReceived: 0,
    spansUnattributed: 0,
    late: 0,
    sessionsOverflow: 0,
    pendingOverflow: 0,
    eventsReceived: 0,
    eventsUnattributed: 0,
    requestsRecorded: 0,
    requestsUnattributed: 0,
    unpricedTokens: 0,
  };
  private index = new AttributionIndex();
  private readonly rollouts = new Map<string, RolloutAggregate>();
  private readonly traces = new Map<string, string>();
  private readonly sessionTargets = new Map<string, Target>();
  private readonly pending = new Map<string, Pending[]>();
  private pendingCount = 0;
  private customAttrNames = new Set<string>();
  private readonly opts: Required<Omit<AggregatorOptions, 'prices' | 'now'>>;
  private readonly now: () => number;

  constructor(options: AggregatorOptions = {}) {
    this.prices = options.prices ?? new PriceBook();
    this.now = options.now ?? Date.now;
    this.opts = {
      maxSessionsPerRollout: options.maxSessionsPerRollout ?? 50_000,
      sessionIdleMs: options.sessionIdleMs ?? 30_000,
      settleMs: options.settleMs ?? 2_000,
      maxPending: options.maxPending ?? 20_000,
      pendingTtlMs: options.pendingTtlMs ?? 60_000,
      maxTraces: options.maxTraces ?? 100_000,
    };
  }

  /**
   * The rollouts in play now. New ones start aggregating, known ones keep their data and take
   * the new analysis spec, and rollouts no longer listed are forgotten.
   */
  track(rollouts: readonly AggregatedRollout[]): void {
    const now = this.now();
    const ids = new Set(rollouts.map((r) => r.id));
    for (const id of this.rollouts.keys()) if (!ids.has(id)) this.rollouts.delete(id);
    for (const r of rollouts) {
      const known = this.rollouts.get(r.id);
      if (known) known.configure(r);
      else this.rollouts.set(r.id, new RolloutAggregate(r, now));
    }
    this.index = new AttributionIndex(rollouts);
    this.customAttrNames = new Set([...this.rollouts.values()].flatMap((r) => r.customAttrs.map((c) => c.attribute)));
  }

  tracked(): AggregatedRollout[] {
    return [...this.rollouts.values()].map((r) => r.info);
  }

  // --- input -----------------------------------------------------------------------------------

  ingestSpans(batch: DecodedBatch): void {
    const at = this.now();
    this.counters.spansReceived += batch.spans.length;
    for (const span of batch.spans) this.routeSpan({ kind: 'span', span, facts: spanFacts(span), at });
  }

  ingestEvent(event: BusinessEvent): void {
    this.counters.eventsReceived++;
    this.routeEvent({ kind: 'event', event, at: this.now() });
  }

  /**
   * One request measured by the gateway (`Measurements.subscribe`). It names its rollout and
   * cohort; a request without a rollout is attributed by its release like a span.
   */
  recordRequest(m: MeasuredRequest): void {
    const target = m.rollout
      ? { rolloutId: m.rollout, cohort: m.cohort }
      : this.index.resolve({ release: m.release, digest: m.digest, cohort: m.cohort });
    const ro = target && this.rollouts.get(target.rolloutId);
    if (!target || !ro) {
      this.counters.requestsUnattributed++;
      return;
    }
    this.counters.requestsRecorded++;
    const acc = ro.cohortAcc(target.cohort);
    acc.proportion('error_rate', m.error !== undefined || m.status === 0 || m.status >= 500);
    acc.quantile('latency', m.latencyMs);
    if (m.error === undefined) acc.quantile('ttfb', m.ttfbMs);
    if (!m.unit) return;
    this.learnTarget(m.unit, target);
    const rec = this.session(ro, m.unit, target.cohort);
    if (!rec) return;
    const input = m.usage?.inputTokens ?? 0;
    const output = m.usage?.outputTokens ?? 0;
    if (input + output > 0) {
      rec.gatewayInputTokens += input;
      rec.gatewayOutputTokens += output;
      // The gateway does not know the model; the release's model is what the spans would say.
      const cost = this.prices.cost(this.modelOf(ro, target.cohort), input, output);
      if (cost === undefined) this.counters.unpricedTokens += input + output;
      else rec.gatewayCost += cost;
    }
    if (isOutcome(m.outcome)) rec.setOutcome(m.outcome, m.at + m.latencyMs);
  }

  /** The model a cohort's spans named last, for pricing the gateway's usage readings. */
  private modelOf(ro: RolloutAggregate, cohort: Cohort): string | undefined {
    return ro.models.get(cohort);
  }

  private routeSpan(p: Extract<Pending, { kind: 'span' }>): void {
    const { span, facts } = p;
    let session = facts.session;
    if (session) {
      if (!this.traces.has(span.traceId)) {
        this.remember(this.traces, span.traceId, session, this.opts.maxTraces);
        this.drain(`t:${span.traceId}`);
      }
    } else {
      session = this.traces.get(span.traceId);
      if (!session) {
        // Not yet tied to a session: keep it only if it carries something a metric reads.
        if (this.useful(span, facts)) this.park(`t:${span.traceId}`, p);
        return;
      }
    }
    const target = this.targetFor(session, facts.attribution);
    if (!target) return this.park(`s:${session}`, p);
    const ro = this.rollouts.get(target.rolloutId);
    const rec = ro && this.session(ro, session, target.cohort);
    if (!ro || !rec) return;
    if (facts.inputTokens + facts.outputTokens > 0) {
      rec.spanInputTokens += facts.inputTokens;
      rec.spanOutputTokens += facts.outputTokens;
      const cost = this.prices.cost(facts.model, facts.inputTokens, facts.outputTokens);
      if (cost === undefined) this.counters.unpricedTokens += facts.inputTokens + facts.outputTokens;
      else rec.spanCost += cost;
      if (facts.model) ro.models.set(target.cohort, facts.model);
    }
    if (facts.tool) rec.addTool(facts.tool);
    if (facts.outcome) rec.setOutcome(facts.outcome, facts.atMs);
    if (facts.feedback !== undefined) rec.setFeedback(facts.feedback, facts.atMs);
    for (const c of ro.customAttrs) {
      if (c.span && span.name !== c.span && !span.name.startsWith(`${c.span} `) && span.attributes['gen_ai.operation.name'] !== c.span) continue;
      const v = attr(span, c.attribute);
      const value = typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
      if (typeof value === 'number' || typeof value === 'boolean') rec.addCustom(c.metric, value);
    }
  }

  private routeEvent(p: Extract<Pending, { kind: 'event' }>): void {
    const { event } = p;
    const target = this.targetFor(event.session, event.attribution);
    if (!target) return this.park(`s:${event.session}`, p);
    const ro = this.rollouts.get(target.rolloutId);
    const rec = ro && this.session(ro, event.session, target.cohort);
    if (!ro || !rec) return;
    const at = event.at ? Date.parse(event.at) : Date.now();
    if (event.type === 'outcome' && typeof event.value === 'string' && (OUTCOMES as readonly string[]).includes(event.value))
      rec.setOutcome(event.value as Outcome, at);
    if (event.type === 'escalation' && event.value !== false && event.value !== 0) rec.setOutcome('escalated', at);
    if (event.type === 'feedback' && typeof event.value === 'number') rec.setFeedback(event.value, at);
    const name = event.name ?? event.type;
    for (const c of ro.customEvents) {
      if (c.event !== name) continue;
      const v = c.field === undefined ? 1 : c.field === 'value' ? event.value : event.fields?.[c.field];
      if (typeof v === 'number' || typeof v === 'boolean') rec.addCustom(c.metric, v);
    }
  }

  private useful(span: SpanView, f: SpanFacts): boolean {
    if (f.inputTokens + f.outputTokens > 0 || f.tool || f.outcome || f.feedback !== undefined) return true;
    for (const a of this.customAttrNames) if (attr(span, a) !== undefined) return true;
    return false;
  }

  private targetFor(session: string, attribution: SpanFacts['attribution']): Target | undefined {
    const known = this.sessionTargets.get(session);
    if (known) return known;
    const target = this.index.resolve(attribution);
    if (target) this.learnTarget(session, target);
    return target;
  }

  private learnTarget(session: string, target: Target): void {
    if (this.sessionTargets.has(session)) return;
    this.remember(this.sessionTargets, session, target, this.opts.maxTraces);
    this.drain(`s:${session}`);
  }

  /** Insertion-ordered maps make a cheap FIFO bound. */
  private remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
    if (map.size >= max) map.delete(map.keys().next().value!);
    map.set(key, value);
  }

  private park(key: string, p: Pending): void {
    if (this.pendingCount >= this.opts.maxPending) {
      this.counters.pendingOverflow++;
      return;
    }
    const list = this.pending.get(key);
    if (list) list.push(p);
    else this.pending.set(key, [p]);
    this.pendingCount++;
  }

  private drain(key: string): void {
    const list = this.pending.get(key);
    if (!list) return;
    this.pending.delete(key);
    this.pendingCount -= list.length;
    for (const p of list) {
      if (p.kind === 'span') this.routeSpan(p);
      else this.routeEvent(p);
    }
  }

  private session(ro: RolloutAggregate, id: string, cohort: Cohort): SessionRecord | undefined {
    const now = this.now();
    let rec = ro.open.get(id);
    if (rec) {
      rec.lastSeen = now;
      return rec;
    }
    if (ro.closed.has(id)) {
      this.counters.late++;
      return undefined;
    }
    if (ro.open.size >= this.opts.maxSessionsPerRollout) {
      this.counters.sessionsOverflow++;
      return undefined;
    }
    ro.open.set(id, (rec = new SessionRecord(id, cohort, now)));
    return rec;
  }

  // --- output ----------------------------------------------------------------------------------

  /** Sessions open now, per rollout (what memory holds). */
  openSessions(rolloutId: string): number {
    return this.rollouts.get(rolloutId)?.open.size ?? 0;
  }

  /**
   * Close the rollout's current window: fold quiet sessions, return this window's and the
   * cumulative samples, start the next window. `step` and `weight` are the rollout's now: when
   * either changed since the last flush, the cumulative samples restart (core samples.ts wants
   * them to cover one constant weight) and the window index restarts at 0.
   */
  flush(rolloutId: string, at: { step: number; weight: number }): AnalysisWindow | undefined {
    const ro = this.rollouts.get(rolloutId);
    if (!ro) return undefined;
    const now = this.now();
    this.sweep(now);
    for (const rec of ro.open.values()) {
      const idle = now - rec.lastSeen;
      if (idle >= this.opts.sessionIdleMs || (rec.outcome !== undefined && idle >= this.opts.settleMs)) this.fold(ro, rec, now);
    }
    const key = `${at.step}:${at.weight}`;
    if (ro.stepKey !== key) {
      ro.stepKey = key;
      ro.windowIndex = 0;
      ro.cumulative = { baseline: { sessions: 0, metrics: {} }, canary: { sessions: 0, metrics: {} } };
    }
    const sample = (c: Cohort): CohortSample => {
      const s = ro.acc.get(c)?.toSample(HISTOGRAM_ALIASES) ?? { sessions: 0, metrics: {} };
      for (const [name, source] of ro.aliases) if (s.metrics[source]) s.metrics[name] = s.metrics[source];
      return s;
    };
    const window: CohortPair = { baseline: sample('baseline'), canary: sample(ro.treatment) };
    ro.cumulative = { baseline: mergeCohorts(ro.cumulative.baseline, window.baseline), canary: mergeCohorts(ro.cumulative.canary, window.canary) };
    const out: AnalysisWindow = {
      index: ro.windowIndex,
      start: new Date(ro.windowStart).toISOString(),
      end: new Date(now).toISOString(),
      expectedCanaryShare: canaryShare(ro.info.strategy, at.weight),
      window,
      cumulative: ro.cumulative,
    };
    ro.windowIndex++;
    ro.windowStart = now;
    ro.acc = new Map();
    return out;
  }

  /**
   * The decision paths of the sessions folded since the last call (baseline and the compared
   * cohort), for replicas that pool their data through the store.
   */
  takePathDelta(rolloutId: string): { baseline: PathCounts; canary: PathCounts } | undefined {
    const ro = this.rollouts.get(rolloutId);
    if (!ro) return undefined;
    const out = { baseline: ro.pathDelta.get('baseline') ?? emptyPaths(), canary: ro.pathDelta.get(ro.treatment) ?? emptyPaths() };
    ro.pathDelta = new Map();
    return out;
  }

  /** The decision-path comparison since the rollout began (not reset by steps). */
  paths(rolloutId: string, limit = 20): DecisionPaths | undefined {
    const ro = this.rollouts.get(rolloutId);
    if (!ro) return undefined;
    return comparePaths(ro.paths.get('baseline') ?? emptyPaths(), ro.paths.get(ro.treatment) ?? emptyPaths(), limit);
  }

  private fold(ro: RolloutAggregate, rec: SessionRecord, now: number): void {
    ro.open.delete(rec.id);
    if (ro.closed.size >= this.opts.maxSessionsPerRollout * 2) ro.closed.delete(ro.closed.keys().next().value!);
    ro.closed.set(rec.id, now);
    const acc = ro.cohortAcc(rec.cohort);
    acc.sessions++;
    for (const o of OUTCOMES) acc.proportion(OUTCOME_METRIC[o], rec.outcome === o);
    acc.mean('tokens_per_session', rec.tokens);
    acc.mean('cost_per_session', rec.cost);
    acc.mean('tool_calls_per_session', rec.tools.length + rec.droppedToolCalls);
    for (const t of rec.tools) acc.proportion('tool_error_rate', t.error);
    if (rec.feedback !== undefined) acc.mean('feedback_score', rec.feedback);
    for (const [metric, kind] of ro.customKinds) {
      const v = rec.custom.get(metric);
      if (kind === 'proportion') acc.proportion(metric, v?.any ?? false);
      else if (!v) continue;
      else if (kind === 'mean') acc.mean(metric, v.sum);
      else for (const x of v.values) acc.quantile(metric, x);
    }
    const tools = rec.orderedTools();
    for (const table of [ro.paths, ro.pathDelta]) {
      let paths = table.get(rec.cohort);
      if (!paths) table.set(rec.cohort, (paths = emptyPaths()));
      addSession(paths, tools);
    }
  }

  /** Drop what waited too long for its session or release, counting it; forget old closed sessions. */
  private sweep(now: number): void {
    for (const [key, list] of this.pending) {
      const keep = list.filter((p) => now - p.at < this.opts.pendingTtlMs);
      const expired = list.length - keep.length;
      if (expired === 0) continue;
      for (const p of list) if (now - p.at >= this.opts.pendingTtlMs) {
        if (p.kind === 'span') this.counters.spansUnattributed++;
        else this.counters.eventsUnattributed++;
      }
      this.pendingCount -= expired;
      if (keep.length > 0) this.pending.set(key, keep);
      else this.pending.delete(key);
    }
    const horizon = Math.max(this.opts.sessionIdleMs * 10, 600_000);
    for (const ro of this.rollouts.values())
      for (const [id, at] of ro.closed) {
        if (now - at < horizon) break; // insertion order is closing order
        ro.closed.delete(id);
      }
  }
}

