/**
 * Per-request measurements, per cohort. Two consumers:
 * - Prometheus (`/metrics`): cumulative counters and histograms per agent × release × cohort,
 *   updated in place through a `Series` the routing table holds, so recording costs no lookup;
 * - the analysis (telemetry): every request as a `RequestMeasurement`, and every shadowed
 *   request as a `ShadowPair`, via `subscribe()` (push) or `drain()` (pull, bounded buffer).
 */
import type { Cohort } from '@sluice/core';
import type { TokenUsage } from './usage.js';

export interface RequestMeasurement {
  /** Start of the request, epoch ms. */
  at: number;
  agent: string;
  rollout?: string;
  release: string;
  digest: string;
  cohort: Cohort;
  /** The unit key the request was assigned by (session, user), when it had one. */
  unit?: string;
  status: number;
  latencyMs: number;
  /** Time to the upstream's response headers. */
  ttfbMs: number;
  /** Response body bytes sent to the client (or, for shadow, received from the candidate). */
  bytes: number;
  /** `sluice-outcome` from the upstream, if any. */
  outcome?: string;
  usage?: TokenUsage;
  /** Why there was no upstream answer: `refused`, `timeout`, `reset`, `client-abort`, … */
  error?: string;
}

export interface ShadowSide {
  release: string;
  status: number;
  latencyMs: number;
  outcome?: string;
  usage?: TokenUsage;
  error?: string;
}

export interface ShadowPair {
  at: number;
  agent: string;
  rollout: string;
  unit?: string;
  baseline: ShadowSide;
  shadow: ShadowSide;
}

export type GatewayEvent = { type: 'request'; measurement: RequestMeasurement } | { type: 'shadow-pair'; pair: ShadowPair };

export interface Drained {
  requests: RequestMeasurement[];
  pairs: ShadowPair[];
  /** Records lost because the buffer was full since the last drain. */
  dropped: number;
}

const BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

class Histogram {
  readonly counts = new Float64Array(BUCKETS_S.length + 1);
  sum = 0;
  count = 0;
  observe(seconds: number): void {
    let i = 0;
    while (i < BUCKETS_S.length && seconds > (BUCKETS_S[i] as number)) i++;
    this.counts[i]! += 1;
    this.sum += seconds;
    this.count++;
  }
}

/** Cumulative figures for one agent × release × cohort. */
export class Series {
  readonly byClass = [0, 0, 0, 0, 0, 0]; // 1xx..5xx, then errors without a status
  readonly latency = new Histogram();
  readonly ttfb = new Histogram();
  bytes = 0;
  inputTokens = 0;
  outputTokens = 0;
  readonly outcomes = new Map<string, number>();
  constructor(
    readonly agent: string,
    readonly release: string,
    readonly cohort: Cohort,
  ) {}
}

export class Measurements {
  private readonly series = new Map<string, Series>();
  private readonly subscribers = new Set<(e: GatewayEvent) => void>();
  private requests: RequestMeasurement[] = [];
  private pairs: ShadowPair[] = [];
  private dropped = 0;
  /** Extra gauges rendered by `/metrics` (name → value), set by the gateway. */
  readonly gauges = new Map<string, { help: string; value: () => number | Array<[Record<string, string>, number]> }>();

  constructor(private readonly bufferLimit = 100_000) {}

  /** The series for agent × release × cohort, created on first use; the routing table keeps it. */
  seriesFor(agent: string, release: string, cohort: Cohort): Series {
    const k = `${agent}\u0000${release}\u0000${cohort}`;
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = new Series(agent, release, cohort)));
    return s;
  }

  record(series: Series, m: RequestMeasurement): void {
    series.byClass[m.status >= 100 && m.status < 600 ? Math.floor(m.status / 100) - 1 : 5]! += 1;
    series.latency.observe(m.latencyMs / 1000);
    if (m.error === undefined) series.ttfb.observe(m.ttfbMs / 1000);
    series.bytes += m.bytes;
    if (m.usage) {
      series.inputTokens += m.usage.inputTokens ?? 0;
      series.outputTokens += m.usage.outputTokens ?? 0;
    }
    if (m.outcome !== undefined) series.outcomes.set(m.outcome, (series.outcomes.get(m.outcome) ?? 0) + 1);
    // Full buffer (nobody draining): drop the newest and count it, never grow without bound.
    if (this.requests.length < this.bufferLimit) this.requests.push(m);
    else this.dropped++;
    if (this.subscribers.size > 0) this.emit({ type: 'request', measurement: m });
  }

  recordPair(p: ShadowPair): void {
    if (this.pairs.length < this.bufferLimit) this.pairs.push(p);
    else this.dropped++;
    if (this.subscribers.size > 0) this.emit({ type: 'shadow-pair', pair: p });
  }

  /** Push every measurement as it is recorded; returns the unsubscribe function. */
  subscribe(fn: (e: GatewayEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** Take everything recorded since the last drain. */
  drain(): Drained {
    const out = { requests: this.requests, pairs: this.pairs, dropped: this.dropped };
    this.requests = [];
    this.pairs = [];
    this.dropped = 0;
    return out;
  }

  /** Prometheus text exposition format 0.0.4. */
  prometheus(): string {
    const lines: string[] = [];
    const all = [...this.series.values()];
    const lbl = (s: Series, extra = '') => `agent="${esc(s.agent)}",release="${esc(s.release)}",cohort="${s.cohort}"${extra}`;
    lines.push('# HELP sluice_gateway_requests_total Requests answered, by status class (error = no upstream answer).', '# TYPE sluice_gateway_requests_total counter');
    for (const s of all)
      s.byClass.forEach((n, i) => {
        if (n > 0) lines.push(`sluice_gateway_requests_total{${lbl(s, `,code="${i === 5 ? 'error' : `${i + 1}xx`}"`)}} ${n}`);
      });
    histogram(lines, 'sluice_gateway_request_duration_seconds', 'Time from request to the last response byte.', all, (s) => s.latency, lbl);
    histogram(lines, 'sluice_gateway_time_to_first_byte_seconds', "Time to the upstream's response headers.", all, (s) => s.ttfb, lbl);
    lines.push('# HELP sluice_gateway_response_bytes_total Response body bytes.', '# TYPE sluice_gateway_response_bytes_total counter');
    for (const s of all) lines.push(`sluice_gateway_response_bytes_total{${lbl(s)}} ${s.bytes}`);
    lines.push('# HELP sluice_gateway_tokens_total Token usage reported in responses.', '# TYPE sluice_gateway_tokens_total counter');
    for (const s of all) {
      if (s.inputTokens > 0) lines.push(`sluice_gateway_tokens_total{${lbl(s, ',type="input"')}} ${s.inputTokens}`);
      if (s.outputTokens > 0) lines.push(`sluice_gateway_tokens_total{${lbl(s, ',type="output"')}} ${s.outputTokens}`);
    }
    lines.push('# HELP sluice_gateway_outcomes_total Outcomes reported by upstreams in sluice-outcome.', '# TYPE sluice_gateway_outcomes_total counter');
    for (const s of all) for (const [o, n] of s.outcomes) lines.push(`sluice_gateway_outcomes_total{${lbl(s, `,outcome="${esc(o)}"`)}} ${n}`);
    for (const [name, g] of this.gauges) {
      lines.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`);
      const v = g.value();
      if (typeof v === 'number') lines.push(`${name} ${v}`);
      else for (const [labels, n] of v) lines.push(`${name}{${Object.entries(labels).map(([k, x]) => `${k}="${esc(x)}"`).join(',')}} ${n}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private emit(e: GatewayEvent): void {
    for (const fn of this.subscribers) {
      try {
        fn(e);
      } catch {
        // A failing consumer must not break the request path.
      }
    }
  }
}

function histogram(lines: string[], name: string, help: string, all: Series[], pick: (s: Series) => Histogram, lbl: (s: Series, extra?: string) => string): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
  for (const s of all) {
    const h = pick(s);
    if (h.count === 0) continue;
    let cum = 0;
    BUCKETS_S.forEach((b, i) => {
      cum += h.counts[i] as number;
      lines.push(`${name}_bucket{${lbl(s, `,le="${b}"`)}} ${cum}`);
    });
    lines.push(`${name}_bucket{${lbl(s, ',le="+Inf"')}} ${h.count}`, `${name}_sum{${lbl(s)}} ${h.sum}`, `${name}_count{${lbl(s)}} ${h.count}`);
  }
}

const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
