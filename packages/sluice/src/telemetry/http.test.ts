import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { sampleMean, type MeanSample, type ProportionSample } from '@sluice/core';
import { httpPart } from '../server/http.js';
import { TelemetryAggregator } from './aggregate/aggregator.js';
import { staticAuthorizer } from './auth.js';
import { createIngestApp } from './http.js';
import { emptyIngestCounters } from './metrics.js';
import { ExportTraceServiceRequest, ExportTraceServiceResponse, RpcStatus } from './otlp/schema.js';
import { IngestQueue } from './queue.js';
import { agentTracer, emitSession } from './testing/agent.js';

const ROLLOUT = {
  id: 'ro-1',
  agent: 'support-agent',
  strategy: 'canary' as const,
  baseline: { release: 'support-agent@1.0.0' },
  candidate: { release: 'support-agent@1.1.0' },
};

function setup(queue = new IngestQueue()) {
  const aggregator = new TelemetryAggregator({ sessionIdleMs: 0, settleMs: 0 });
  aggregator.track([ROLLOUT]);
  const counters = emptyIngestCounters();
  const app = createIngestApp({ aggregator, authorize: staticAuthorizer({ 'ingest-secret': 'agent' }), queue, counters });
  const http = httpPart('ingest', app.fetch, { port: 0 });
  return { aggregator, counters, http, queue };
}

const mean = (s: unknown) => sampleMean(s as MeanSample);
const prop = (s: unknown) => s as ProportionSample;

for (const format of ['protobuf', 'json'] as const) {
  describe(`OTLP ingest, ${format}, with the official exporter`, () => {
    const env = setup();
    before(() => env.http.start());
    after(() => env.http.stop());

    test('GenAI spans become per-cohort session metrics', async () => {
      const agent = agentTracer({ url: env.http.url(), token: 'ingest-secret', format, processor: 'simple', compression: format === 'json' ? 'gzip' : 'none' });
      for (let i = 0; i < 4; i++) {
        emitSession(agent.tracer, {
          session: `b-${i}`,
          release: 'support-agent@1.0.0',
          cohort: 'baseline',
          inputTokens: 1000,
          outputTokens: 200,
          tools: ['lookup_order', 'issue_refund'],
          outcome: 'resolved',
          feedback: 5,
        });
        emitSession(agent.tracer, {
          session: `c-${i}`,
          release: 'support-agent@1.1.0',
          cohort: 'canary',
          model: 'gpt-4o',
          inputTokens: 3000,
          outputTokens: 500,
          tools: ['lookup_order', 'lookup_order', 'issue_refund!'],
          outcome: i < 3 ? 'escalated' : 'resolved',
          feedback: 2,
        });
      }
      await agent.flush();
      await agent.shutdown();
      assert.equal(env.counters.spansAccepted, 8 * 2 + 4 * 2 + 4 * 3);
      const w = env.aggregator.flush(ROLLOUT.id, { step: 0, weight: 50 });
      assert.ok(w);
      const { baseline, canary } = w.window;
      assert.equal(baseline.sessions, 4);
      assert.equal(canary.sessions, 4);
      assert.equal(mean(baseline.metrics.tokens_per_session), 1200);
      assert.equal(mean(canary.metrics.tokens_per_session), 3500);
      // gpt-4o-mini 0.15/0.60 per million, gpt-4o 2.50/10.00.
      assert.ok(Math.abs(mean(baseline.metrics.cost_per_session) - (1000 * 0.15 + 200 * 0.6) / 1e6) < 1e-12);
      assert.ok(Math.abs(mean(canary.metrics.cost_per_session) - (3000 * 2.5 + 500 * 10) / 1e6) < 1e-12);
      assert.equal(mean(baseline.metrics.tool_calls_per_session), 2);
      assert.equal(mean(canary.metrics.tool_calls_per_session), 3);
      assert.deepEqual([prop(canary.metrics.tool_error_rate).n, prop(canary.metrics.tool_error_rate).x], [12, 4]);
      assert.deepEqual([prop(baseline.metrics.tool_error_rate).n, prop(baseline.metrics.tool_error_rate).x], [8, 0]);
      assert.deepEqual([prop(canary.metrics.escalation_rate).n, prop(canary.metrics.escalation_rate).x], [4, 3]);
      assert.deepEqual([prop(baseline.metrics.resolved_rate).n, prop(baseline.metrics.resolved_rate).x], [4, 4]);
      assert.equal(mean(baseline.metrics.feedback_score), 5);
      assert.equal(mean(canary.metrics.feedback_score), 2);
      // Decision paths: the canary calls lookup_order twice per session and then a failing refund.
      const paths = env.aggregator.paths(ROLLOUT.id)!;
      const lookup = paths.rows.find((r) => r.kind === 'tool' && r.key === 'lookup_order')!;
      assert.deepEqual([lookup.baseline, lookup.canary, lookup.difference], [1, 2, 1]);
      const loop = paths.rows.find((r) => r.key === 'lookup_order → lookup_order')!;
      assert.deepEqual([loop.baseline, loop.canary], [0, 1]);
      const refund = paths.rows.find((r) => r.key === 'issue_refund')!;
      assert.deepEqual(refund.errorRate, { baseline: 0, canary: 1 });
    });
  });
}

describe('OTLP ingest under overload', () => {
  const env = setup(new IngestQueue({ maxJobs: 1 }));
  before(() => env.http.start());
  after(() => env.http.stop());

  test('a full queue answers 429 with Retry-After, and the exporter retry lands', async () => {
    env.queue.pause();
    // Occupy the single queue slot with a request that cannot finish while paused.
    const blocker = fetch(`${env.http.url()}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: 'Bearer ingest-secret' },
      body: ExportTraceServiceRequest.encode(ExportTraceServiceRequest.create({})).finish(),
    });
    while (env.queue.depth < 1) await new Promise((r) => setTimeout(r, 5));

    const direct = await fetch(`${env.http.url()}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ingest-secret' },
      body: '{}',
    });
    assert.equal(direct.status, 429);
    assert.ok(Number(direct.headers.get('retry-after')) >= 1);

    const agent = agentTracer({ url: env.http.url(), token: 'ingest-secret', format: 'protobuf', processor: 'simple' });
    emitSession(agent.tracer, { session: 'late-1', release: 'support-agent@1.1.0', cohort: 'canary', inputTokens: 10, outputTokens: 5, outcome: 'resolved' });
    const flushed = agent.flush();
    // Once the exporter has been refused, let the queue run: its retry must succeed.
    while (env.counters.refused.overload < 2) await new Promise((r) => setTimeout(r, 10));
    env.queue.resume();
    await flushed;
    await agent.shutdown();
    assert.equal((await blocker).status, 200);
    assert.ok(env.queue.refused >= 2);
    assert.equal(env.counters.spansAccepted, 2);
    const w = env.aggregator.flush(ROLLOUT.id, { step: 0, weight: 10 })!;
    assert.equal(w.window.canary.sessions, 1);
    assert.equal(mean(w.window.canary.metrics.tokens_per_session), 15);
  });
});

describe('OTLP ingest: bad input', () => {
  const env = setup();
  let url = '';
  before(async () => {
    await env.http.start();
    url = `${env.http.url()}/v1/traces`;
  });
  after(() => env.http.stop());
  const auth = { authorization: 'Bearer ingest-secret' };

  test('no token is 401, an unknown one too', async () => {
    const r1 = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(r1.status, 401);
    assert.match(r1.headers.get('www-authenticate') ?? '', /Bearer/);
    const r2 = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer nope' }, body: '{}' });
    assert.equal(r2.status, 401);
    assert.equal(env.counters.refused.auth, 2);
  });

  test('an unsupported content type is 415', async () => {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain', ...auth }, body: 'x' });
    assert.equal(r.status, 415);
  });

  test('a body that is not protobuf is 400 with a google.rpc.Status', async () => {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...auth }, body: new Uint8Array([0x0a, 0xff, 0xff, 0xff]) });
    assert.equal(r.status, 400);
    const status = RpcStatus.decode(new Uint8Array(await r.arrayBuffer())) as unknown as { code: number; message: string };
    assert.equal(status.code, 3);
    assert.match(status.message, /ExportTraceServiceRequest/);
  });

  test('malformed JSON is 400', async () => {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: '{"resourceSpans": [' });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { message: string }).message, /not valid JSON/);
  });

  test('spans with bad ids are refused one by one: partial success names them', async () => {
    const span = (traceId: string) => ({ traceId, spanId: '0102030405060708', name: 'x', startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000500000000' });
    const body = { resourceSpans: [{ scopeSpans: [{ spans: [span('0102030405060708090a0b0c0d0e0f10'), span('nothex')] }] }] };
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...auth }, body: gzipSync(JSON.stringify(body)) });
    assert.equal(r.status, 200);
    const out = (await r.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    assert.equal(out.partialSuccess.rejectedSpans, '1');
    assert.match(out.partialSuccess.errorMessage, /spans\/1\/traceId/);
  });

  test('protobuf partial success is encoded in ExportTraceServiceResponse', async () => {
    const req = ExportTraceServiceRequest.create({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: new Uint8Array(3), spanId: new Uint8Array(8), name: 'short id' }] }] }] });
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...auth }, body: ExportTraceServiceRequest.encode(req).finish() });
    assert.equal(r.status, 200);
    const res = ExportTraceServiceResponse.decode(new Uint8Array(await r.arrayBuffer())) as unknown as { partialSuccess: { rejectedSpans: { toNumber(): number }; errorMessage: string } };
    assert.equal(res.partialSuccess.rejectedSpans.toNumber(), 1);
    assert.match(res.partialSuccess.errorMessage, /trace_id must be 16 bytes/);
  });
});

describe('business events', () => {
  const env = setup();
  let url = '';
  before(async () => {
    await env.http.start();
    url = `${env.http.url()}/v1/events`;
  });
  after(() => env.http.stop());
  const headers = { 'content-type': 'application/json', authorization: 'Bearer ingest-secret' };

  test('outcome, escalation, feedback and kpi events attach to their session', async () => {
    const events = [
      { session: 'e-1', type: 'outcome', value: 'resolved', release: 'support-agent@1.0.0' },
      { session: 'e-1', type: 'feedback', value: 4 },
      { session: 'e-2', type: 'escalation', cohort: 'canary', rollout: 'ro-1' },
      { session: 'e-2', type: 'kpi', name: 'refund_usd', value: 120 },
    ];
    const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ events }) });
    assert.equal(r.status, 202);
    assert.deepEqual(await r.json(), { accepted: 4 });
    const w = env.aggregator.flush('ro-1', { step: 0, weight: 10 })!;
    assert.deepEqual([prop(w.window.baseline.metrics.resolved_rate).x, w.window.baseline.sessions], [1, 1]);
    assert.equal(mean(w.window.baseline.metrics.feedback_score), 4);
    assert.deepEqual([prop(w.window.canary.metrics.escalation_rate).x, w.window.canary.sessions], [1, 1]);
  });

  test('a bad event is refused whole, naming the field', async () => {
    const events = [
      { session: 'e-3', type: 'outcome', value: 'resolved' },
      { session: 'e-3', type: 'outcome', value: 'great' },
      { type: 'feedback', value: 'five' },
    ];
    const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ events }) });
    assert.equal(r.status, 400);
    const body = (await r.json()) as { error: { kind: string; message: string; details: { where: string; message: string }[] } };
    assert.equal(body.error.kind, 'invalid');
    const where = body.error.details.map((d) => d.where);
    assert.ok(where.includes('events[1].value'), where.join());
    assert.ok(where.includes('events[2].session'), where.join());
    assert.ok(where.includes('events[2].value'), where.join());
    assert.equal(env.counters.events, 4);
  });
});
