import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Histogram, parseAnalysisSpec, sampleMean, type MeanSample, type ProportionSample, type QuantileSample } from '@sluice/core';
import type { SpanView } from '../otlp/span.js';
import { TelemetryAggregator } from './aggregator.js';

const ROLLOUT = {
  id: 'ro-1',
  agent: 'support-agent',
  strategy: 'canary' as const,
  baseline: { release: 'support-agent@1.0.0', digest: `sha256:${'a'.repeat(64)}` },
  candidate: { release: 'support-agent@1.1.0', digest: `sha256:${'b'.repeat(64)}` },
};

let spanSeq = 0;
function span(traceId: string, attributes: SpanView['attributes'], o: Partial<SpanView> = {}): SpanView {
  return { traceId: traceId.padEnd(32, '0'), spanId: String(++spanSeq).padStart(16, '0'), name: 'x', startMs: 1000 + spanSeq, durationMs: 5, error: false, attributes, resource: {}, ...o };
}
const batch = (...spans: SpanView[]) => ({ spans, rejected: 0, errors: [] });

function clock() {
  const c = { t: 1_000_000, now: () => c.t };
  return c;
}

describe('telemetry aggregator', () => {
  test('custom metrics from span attributes and events, and built-ins under another name', () => {
    const c = clock();
    const agg = new TelemetryAggregator({ sessionIdleMs: 1000, settleMs: 100, now: c.now });
    const analysis = parseAnalysisSpec({
      metrics: [
        { name: 'refund_usd', source: { attribute: 'app.refund.usd', span: 'execute_tool' }, kind: 'mean', better: 'lower' },
        { name: 'csat_given', source: { event: 'csat' }, kind: 'proportion', better: 'higher' },
        { name: 'csat_score', source: { event: 'csat', field: 'value' }, kind: 'quantile', q: 0.5, better: 'higher' },
        { name: 'escalations', source: 'escalation_rate' },
      ],
    });
    agg.track([{ ...ROLLOUT, analysis }]);
    agg.ingestSpans(
      batch(
        span('t1', { 'gen_ai.conversation.id': 's1', 'sluice.release': 'support-agent@1.1.0', 'sluice.outcome': 'escalated' }),
        span('t1', { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'issue_refund', 'app.refund.usd': 40 }),
        span('t1', { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'issue_refund', 'app.refund.usd': '60' }),
        // Not an execute_tool span: the metric's span filter leaves it out.
        span('t1', { 'app.refund.usd': 1000 }),
        span('t2', { 'gen_ai.conversation.id': 's2', 'sluice.release.digest': ROLLOUT.candidate.digest }),
      ),
    );
    agg.ingestEvent({ session: 's1', type: 'kpi', name: 'csat', value: 4, attribution: {} });
    agg.ingestEvent({ session: 's1', type: 'kpi', name: 'csat', value: 5, attribution: {} });
    c.t += 5000;
    const w = agg.flush('ro-1', { step: 0, weight: 10 })!;
    const canary = w.window.canary.metrics;
    assert.equal(w.window.canary.sessions, 2);
    assert.deepEqual(canary.refund_usd, { kind: 'mean', n: 1, sum: 100, sumSq: 10000 });
    assert.deepEqual([(canary.csat_given as ProportionSample).n, (canary.csat_given as ProportionSample).x], [2, 1]);
    assert.equal(Histogram.from((canary.csat_score as QuantileSample).histogram).count, 2);
    assert.deepEqual(canary.escalations, canary.escalation_rate);
    assert.equal((canary.escalations as ProportionSample).x, 1);
  });

  test('gateway measurements give error rate, latency and ttfb per request, and usage per session', () => {
    const c = clock();
    const agg = new TelemetryAggregator({ sessionIdleMs: 1000, now: c.now });
    agg.track([ROLLOUT]);
    const req = (o: object) => ({ at: c.t, rollout: 'ro-1', release: 'support-agent@1.0.0', digest: ROLLOUT.baseline.digest, cohort: 'baseline' as const, status: 200, latencyMs: 100, ttfbMs: 20, ...o });
    agg.recordRequest(req({ unit: 'g1', usage: { inputTokens: 1000, outputTokens: 1000 }, outcome: 'resolved' }));
    agg.recordRequest(req({ unit: 'g1', status: 502, error: 'refused', latencyMs: 3 }));
    agg.recordRequest(req({ status: 503, latencyMs: 400 }));
    // No rollout named: attributed by the release digest.
    agg.recordRequest({ ...req({ latencyMs: 200 }), rollout: undefined, digest: ROLLOUT.candidate.digest, release: 'support-agent@1.1.0', cohort: 'canary' as const });
    agg.recordRequest({ ...req({}), rollout: 'ro-other' });
    assert.equal(agg.counters.requestsUnattributed, 1);
    c.t += 2000;
    const w = agg.flush('ro-1', { step: 0, weight: 10 })!;
    const b = w.window.baseline.metrics;
    assert.deepEqual([(b.error_rate as ProportionSample).n, (b.error_rate as ProportionSample).x], [3, 2]);
    const latency = Histogram.from((b.latency_p99 as QuantileSample).histogram);
    assert.equal(latency.count, 3);
    assert.ok(Math.abs(latency.quantile(1) - 400) / 400 < 0.011);
    assert.ok(Math.abs(latency.quantile(0.5) - 100) / 100 < 0.011);
    assert.deepEqual(b.latency_p50, b.latency_p95);
    // ttfb only for requests the upstream answered.
    assert.equal(Histogram.from((b.ttfb_p95 as QuantileSample).histogram).count, 2);
    assert.equal(sampleMean(b.tokens_per_session as MeanSample), 2000);
    assert.equal((b.resolved_rate as ProportionSample).x, 1);
    assert.equal((w.window.canary.metrics.error_rate as ProportionSample).n, 1);
    // Gateway usage is priced with the model the cohort's spans named; none did: unpriced, counted.
    assert.equal(agg.counters.unpricedTokens, 2000);
  });

  test('sessions close when quiet; late data and overflow are counted, never added', () => {
    const c = clock();
    const agg = new TelemetryAggregator({ sessionIdleMs: 1000, settleMs: 100, maxSessionsPerRollout: 2, now: c.now });
    agg.track([ROLLOUT]);
    const open = (s: string, extra = {}) => span(s, { 'gen_ai.conversation.id': s, 'sluice.release': 'support-agent@1.0.0', ...extra });
    agg.ingestSpans(batch(open('a', { 'sluice.outcome': 'resolved' }), open('b'), open('c')));
    assert.equal(agg.counters.sessionsOverflow, 1);
    c.t += 500;
    // `a` has its outcome and has settled; `b` is still within its idle time.
    let w = agg.flush('ro-1', { step: 0, weight: 10 })!;
    assert.equal(w.window.baseline.sessions, 1);
    assert.equal(agg.openSessions('ro-1'), 1);
    agg.ingestSpans(batch(open('a', { 'sluice.feedback.score': 5 })));
    assert.equal(agg.counters.late, 1);
    c.t += 1000;
    w = agg.flush('ro-1', { step: 0, weight: 10 })!;
    assert.equal(w.index, 1);
    assert.equal(w.window.baseline.sessions, 1);
    assert.equal(w.cumulative.baseline.sessions, 2);
    // A new weight starts the cumulative samples again.
    w = agg.flush('ro-1', { step: 1, weight: 50 })!;
    assert.deepEqual([w.index, w.cumulative.baseline.sessions, w.expectedCanaryShare], [0, 0, 0.5]);
  });

  test('spans that wait for their session or release are kept a while, then counted as unattributed', () => {
    const c = clock();
    const agg = new TelemetryAggregator({ sessionIdleMs: 0, pendingTtlMs: 1000, maxPending: 3, now: c.now });
    agg.track([ROLLOUT]);
    // A tool span before its root: no session yet.
    agg.ingestSpans(batch(span('t9', { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup' })));
    // A session nothing in play matches (yet).
    agg.ingestSpans(batch(span('t8', { 'gen_ai.conversation.id': 'x1', 'sluice.release': 'other@1', 'gen_ai.usage.input_tokens': 5 })));
    // Spans carrying nothing any metric reads are not kept.
    agg.ingestSpans(batch(span('t7', { 'http.method': 'GET' })));
    // The root arrives: the tool call joins its session.
    agg.ingestSpans(batch(span('t9', { 'gen_ai.conversation.id': 's9', 'gen_ai.agent.name': 'support-agent', 'gen_ai.agent.version': '1.1.0' })));
    agg.ingestSpans(batch(span('t6', { 'gen_ai.usage.input_tokens': 1 }), span('t5', { 'gen_ai.usage.input_tokens': 1 }), span('t4', { 'gen_ai.usage.input_tokens': 1 })));
    assert.equal(agg.counters.pendingOverflow, 1);
    c.t += 2000;
    const w = agg.flush('ro-1', { step: 0, weight: 10 })!;
    assert.equal(w.window.canary.sessions, 1);
    assert.equal(sampleMean(w.window.canary.metrics.tool_calls_per_session as MeanSample), 1);
    assert.equal(agg.counters.spansUnattributed, 3);
  });
});
