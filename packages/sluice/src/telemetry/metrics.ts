/** Telemetry's series on `/metrics`, read from the aggregator and queue at scrape time. */
import { Counter, Gauge, type Registry } from '../control/metrics.js';
import type { TelemetryAggregator, TelemetryCounters } from './aggregate/aggregator.js';
import type { IngestQueue } from './queue.js';

export interface IngestCounters {
  /** Spans accepted and refused one by one (partial success). */
  spansAccepted: number;
  spansRejected: number;
  /** Requests refused: `overload` (queue full → 429), `too-large` (413), `bad-request` (400), `auth` (401/403). */
  refused: Record<'overload' | 'too-large' | 'bad-request' | 'auth', number>;
  events: number;
}

export const emptyIngestCounters = (): IngestCounters => ({
  spansAccepted: 0,
  spansRejected: 0,
  refused: { overload: 0, 'too-large': 0, 'bad-request': 0, auth: 0 },
  events: 0,
});

const AGGREGATOR_SERIES: Array<[keyof TelemetryCounters, string, string]> = [
  ['spansUnattributed', 'sluice_telemetry_spans_unattributed_total', 'Spans that never matched a session and a release in play'],
  ['late', 'sluice_telemetry_late_total', 'Spans and events for sessions already folded into a window'],
  ['sessionsOverflow', 'sluice_telemetry_sessions_overflow_total', 'New sessions refused because a rollout had too many open'],
  ['pendingOverflow', 'sluice_telemetry_pending_overflow_total', 'Spans and events refused because too many waited for their session or release'],
  ['eventsUnattributed', 'sluice_telemetry_events_unattributed_total', 'Business events whose session never matched a rollout'],
  ['requestsUnattributed', 'sluice_telemetry_gateway_requests_unattributed_total', 'Gateway measurements for no rollout in play'],
  ['unpricedTokens', 'sluice_telemetry_unpriced_tokens_total', 'Tokens of models missing from the price table'],
];

/** Registers the series and refreshes them before each scrape. */
export function registerTelemetryMetrics(registry: Registry, aggregator: TelemetryAggregator, queue: IngestQueue, ingest: IngestCounters): void {
  const spans = registry.register(new Counter('sluice_telemetry_spans_total', 'Spans received over OTLP by result'));
  const refused = registry.register(new Counter('sluice_telemetry_refused_requests_total', 'Ingest requests refused, by reason (overload = 429 with Retry-After)'));
  const events = registry.register(new Counter('sluice_telemetry_events_total', 'Business events accepted'));
  const depth = registry.register(new Gauge('sluice_telemetry_queue_depth', 'Ingest requests waiting or being processed'));
  const bytes = registry.register(new Gauge('sluice_telemetry_queue_bytes', 'Ingest request bytes waiting or being processed'));
  const open = registry.register(new Gauge('sluice_telemetry_open_sessions', 'Sessions held in memory, by rollout'));
  const series = AGGREGATOR_SERIES.map(([k, name, help]) => [k, registry.register(new Counter(name, help))] as const);
  // Counters only go up: add what happened since the last scrape.
  const last = new Map<string, number>();
  const sync = (c: Counter, id: string, value: number, labels: Record<string, string> = {}) => {
    const before = last.get(id) ?? 0;
    if (value > before) c.inc(labels, value - before);
    last.set(id, value);
  };
  registry.onCollect(async () => {
    sync(spans, 'accepted', ingest.spansAccepted, { result: 'accepted' });
    sync(spans, 'rejected', ingest.spansRejected, { result: 'rejected' });
    for (const [reason, n] of Object.entries(ingest.refused)) sync(refused, `refused:${reason}`, n, { reason });
    sync(events, 'events', ingest.events);
    for (const [k, c] of series) sync(c, k, aggregator.counters[k]);
    depth.set({}, queue.depth);
    bytes.set({}, queue.bytes);
    open.reset();
    for (const r of aggregator.tracked()) open.set({ rollout: r.id }, aggregator.openSessions(r.id));
  });
}
