import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openTestStore, type TestStore } from '../adapters/store/testing.js';
import { assembleControlPlane, type ControlPlane } from '../control/plane.js';
import { signManifest, testManifest } from '../control/testing.js';
import { runCli } from '../testing/cli.js';
import { agentTracer, emitSession } from '../telemetry/testing/agent.js';
import { AnalysisLoop } from './loop.js';
import { TelemetryAggregator } from '../telemetry/aggregate/aggregator.js';
import type { AnalysisView } from './routes.js';
import { createAnalysisService, type AnalysisService } from './service.js';

/** A deterministic Bernoulli sequence with rate p: exactly round(p·n) ones, spread evenly. */
const hits = (n: number, p: number) => Array.from({ length: n }, (_, i) => Math.floor((i + 1) * p) > Math.floor(i * p));

describe('analysis loop, end to end on the control plane', () => {
  let store: TestStore;
  let plane: ControlPlane;
  let service: AnalysisService;
  let loop: AnalysisLoop;
  let admin = '';
  let url = '';
  const call = async (method: string, path: string, body?: unknown, token = admin) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  before(async () => {
    store = await openTestStore('pglite');
    service = await createAnalysisService({ priceFile: join(store.dir, 'prices.json'), aggregator: { sessionIdleMs: 0, settleMs: 0 } });
    plane = await assembleControlPlane(store.db, { dataDir: join(store.dir, 'data'), port: 0, routes: [service.routes] });
    admin = plane.adminToken!.token;
    loop = service.attach(plane);
    await plane.http.start();
    url = plane.http.url();
  });
  after(async () => {
    await loop.stop();
    await plane.http.stop();
    plane.routing.close();
    await store.dispose();
  });

  test('a canary with a clearly higher escalation rate is rolled back, with the verdict stored and explained', async () => {
    for (const v of ['1.0.0', '1.1.0']) {
      const m = testManifest('support-agent', v);
      assert.equal((await call('POST', '/v1/releases', { manifest: m, envelopes: [signManifest(m)] })).status, 201);
      const d = await call('POST', '/v1/deployments', { release: `support-agent@${v}`, upstreams: ['http://127.0.0.1:9'], match: { pathPrefix: '/support' } });
      assert.equal(d.status, 201, JSON.stringify(d.body));
    }
    const plan = {
      agent: 'support-agent',
      candidate: 'support-agent@1.1.0',
      steps: [{ weight: 50, gates: ['analysis'] }, { weight: 100 }],
      analysis: {
        interval: '1m',
        consecutive: 2,
        minSamples: 50,
        metrics: [{ name: 'escalation_rate', tolerance: { absolute: 0.02 } }, { name: 'tokens_per_session', tolerance: { relative: 0.2 }, dryRun: true }],
      },
    };
    const started = await call('POST', '/v1/rollouts', { plan });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const id: string = started.body.id;
    // The loop's first pass tracks the rollout, so ingest can attribute its spans.
    assert.deepEqual(await loop.tickOnce(), []);
    assert.ok(loop.leader);

    const tokenRes = await call('POST', '/v1/tokens', { subject: 'support-agent', role: 'agent' });
    assert.equal(tokenRes.status, 201, JSON.stringify(tokenRes.body));
    const agent = agentTracer({ url, token: tokenRes.body.token, format: 'protobuf', processor: 'batch' });
    const n = 300;
    const base = hits(n, 0.08);
    const canary = hits(n, 0.4);
    for (let i = 0; i < n; i++) {
      emitSession(agent.tracer, { session: `b${i}`, release: 'support-agent@1.0.0', cohort: 'baseline', inputTokens: 900, outputTokens: 100, tools: ['lookup_order'], outcome: base[i] ? 'escalated' : 'resolved' });
      emitSession(agent.tracer, { session: `c${i}`, release: 'support-agent@1.1.0', cohort: 'canary', inputTokens: 900, outputTokens: 100, tools: ['lookup_order', 'lookup_order'], outcome: canary[i] ? 'escalated' : 'resolved' });
    }
    await agent.flush();
    await agent.shutdown();
    assert.equal(service.counters.spansAccepted, 2 * n * 3 + n);

    const [outcome] = await loop.tickOnce(true);
    assert.ok(outcome, 'a window was judged');
    assert.equal(outcome.stored.decision, 'rollback');
    assert.equal(outcome.stored.verdict, 'fail');
    assert.ok(outcome.stored.acted);

    const rollout = await call('GET', `/v1/rollouts/${id}`);
    assert.equal(rollout.body.status, 'rolling-back');
    assert.equal(rollout.body.state.lastVerdict.verdict, 'fail');
    assert.match(rollout.body.state.lastReason, /escalation_rate: regression proven/);

    const view = (await call('GET', `/v1/rollouts/${id}/analysis`)).body as AnalysisView;
    const esc = view.latest!.result.metrics.find((m) => m.name === 'escalation_rate')!;
    assert.equal(esc.verdict, 'fail');
    assert.deepEqual(esc.counts.cumulative.baseline, { n, x: base.filter(Boolean).length, estimate: base.filter(Boolean).length / n });
    assert.deepEqual(esc.counts.cumulative.canary, { n, x: canary.filter(Boolean).length, estimate: canary.filter(Boolean).length / n });
    assert.ok(esc.interval && esc.interval.lower! > 0.02, `the interval ${JSON.stringify(esc.interval)} lies above the tolerance`);
    assert.deepEqual(esc.tolerance, { absolute: 0.02 });
    const tokens = view.latest!.result.metrics.find((m) => m.name === 'tokens_per_session')!;
    assert.equal(tokens.dryRun, true);
    assert.equal(tokens.estimate.baseline, 1000);
    const loopRow = view.paths!.rows.find((r) => r.key === 'lookup_order → lookup_order')!;
    assert.deepEqual([loopRow.baseline, loopRow.canary], [0, 1]);

    const audit = await call('GET', '/v1/audit');
    const actions = (audit.body.events as Array<{ action: string; actor: string }>).filter((e) => e.actor === 'sluice-analysis').map((e) => e.action);
    assert.deepEqual(actions, ['rollout.analysis-verdict', 'rollout.rollback-requested']);

    const cli = await runCli(['analysis', 'show', id], { SLUICE_SERVER: url, SLUICE_TOKEN: admin });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /decision {2}rollback \(sent to the rollout\)/);
    assert.match(cli.stdout, /escalation_rate +fail/);
    assert.match(cli.stdout, /lookup_order → lookup_order/);
    const json = await runCli(['analysis', 'show', 'support-agent', '--json'], { SLUICE_SERVER: url, SLUICE_TOKEN: admin });
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.json<AnalysisView>().latest!.decision, 'rollback');

    // The rollout is no longer active: the next pass judges nothing and leaves it alone.
    assert.deepEqual(await loop.tickOnce(true), []);
  });

  test('a canary that holds up passes for `consecutive` windows and the step advances', async () => {
    for (const v of ['1.0.0', '1.1.0']) {
      const m = testManifest('billing-agent', v);
      assert.equal((await call('POST', '/v1/releases', { manifest: m, envelopes: [signManifest(m)] })).status, 201);
      assert.equal((await call('POST', '/v1/deployments', { release: `billing-agent@${v}`, upstreams: ['http://127.0.0.1:9'], match: { pathPrefix: '/billing' } })).status, 201);
    }
    const plan = {
      agent: 'billing-agent',
      candidate: 'billing-agent@1.1.0',
      steps: [{ weight: 50, gates: ['analysis'] }, { weight: 100 }],
      analysis: { interval: '1m', consecutive: 2, minSamples: 50, metrics: [{ name: 'escalation_rate', tolerance: { absolute: 0.15 } }] },
    };
    const started = await call('POST', '/v1/rollouts', { plan });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const id: string = started.body.id;
    await plane.loop.tickOnce(); // enters the 50% step
    await loop.tickOnce();
    const events = [0, 1].flatMap((k) => hits(200, 0.1).map((esc, i) => ({ session: `bill-${k}-${i}`, type: 'outcome', value: esc ? 'escalated' : 'resolved', release: `billing-agent@1.${k}.0` })));
    const sent = await call('POST', '/v1/events', { events: events.slice(0, 200) });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    assert.equal((await call('POST', '/v1/events', { events: events.slice(200) })).status, 202);

    const first = (await loop.tickOnce(true)).find((o) => o.rolloutId === id)!;
    assert.equal(first.stored.decision, 'continue');
    assert.equal(first.stored.result.metrics[0]!.verdict, 'pass');
    assert.equal(first.stored.verdict, 'inconclusive', 'one passing window of two is not a pass yet');
    const second = (await loop.tickOnce(true)).find((o) => o.rolloutId === id)!;
    assert.equal(second.stored.decision, 'advance');
    assert.equal(second.stored.verdict, 'pass');
    // The rollout loop sees the open analysis gate and moves to the next step.
    await plane.loop.tickOnce();
    const r = await call('GET', `/v1/rollouts/${id}`);
    assert.equal(r.body.status, 'promoted', JSON.stringify(r.body.state.lastReason));
    // Promoted, so no longer active: the loop leaves it alone.
    assert.deepEqual(await loop.tickOnce(true), []);
  });

  test('the price table is editable over the API and the CLI, and the edit is audited', async () => {
    const env = { SLUICE_SERVER: url, SLUICE_TOKEN: admin };
    const set = await runCli(['analysis', 'prices', 'set', 'acme-large', '--input', '4', '--output', '12'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual(service.prices.lookup('acme-large-2026-01'), { input: 4, output: 12 });
    const list = await runCli(['analysis', 'prices', '--json'], env);
    assert.deepEqual(list.json<{ prices: Record<string, unknown> }>().prices['acme-large'], { input: 4, output: 12 });
    const bad = await runCli(['analysis', 'prices', 'set', 'acme-large', '--input', '-1', '--output', '2'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--input/);
    const removed = await runCli(['analysis', 'prices', 'remove', 'acme-large'], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(service.prices.lookup('acme-large'), undefined);
    const missing = await runCli(['analysis', 'prices', 'remove', 'acme-large'], env);
    assert.equal(missing.code, 3);
    const unknown = await runCli(['analysis', 'show', 'ro_nope', '--json'], env);
    assert.equal(unknown.code, 3);
    assert.equal(unknown.json<{ error: { kind: string } }>().error.kind, 'not-found');
    const audit = await call('GET', '/v1/audit');
    assert.deepEqual(
      (audit.body.events as Array<{ action: string }>).map((e) => e.action).filter((a) => a.startsWith('prices.')),
      ['prices.set', 'prices.remove'],
    );
  });
});

describe('analysis loop on PostgreSQL: replicas pool their data, one judges', () => {
  let store: TestStore;
  let plane: ControlPlane;
  before(async () => {
    store = await openTestStore('postgres');
    plane = await assembleControlPlane(store.db, { dataDir: join(store.dir, 'data'), port: 0 });
  });
  after(async () => {
    plane.routing.close();
    await store.dispose();
  });

  test('the leader judges what every replica gathered; the standby takes over when it stops', async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await plane.app.request(path, {
        method,
        headers: { authorization: `Bearer ${plane.adminToken!.token}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    for (const v of ['1.0.0', '1.1.0']) {
      const m = testManifest('support-agent', v);
      assert.equal((await call('POST', '/v1/releases', { manifest: m, envelopes: [signManifest(m)] })).status, 201);
      assert.equal((await call('POST', '/v1/deployments', { release: `support-agent@${v}`, upstreams: ['http://127.0.0.1:9'] })).status, 201);
    }
    const plan = {
      agent: 'support-agent',
      candidate: 'support-agent@1.1.0',
      steps: [{ weight: 50, gates: ['analysis'] }, { weight: 100 }],
      analysis: { interval: '1m', minSamples: 50, metrics: [{ name: 'escalation_rate', tolerance: { absolute: 0.02 } }] },
    };
    const started = await call('POST', '/v1/rollouts', { plan });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const id: string = started.body.id;

    const other = await store.reopen();
    const aggA = new TelemetryAggregator({ sessionIdleMs: 0 });
    const aggB = new TelemetryAggregator({ sessionIdleMs: 0 });
    const a = new AnalysisLoop({ db: store.db, aggregator: aggA, replica: 'a' });
    const b = new AnalysisLoop({ db: other, aggregator: aggB, replica: 'b' });
    try {
      await a.tickOnce();
      await b.tickOnce();
      assert.equal(a.leader, true);
      assert.equal(b.leader, false);
      // The baseline's sessions reach replica A, the canary's replica B.
      const base = hits(200, 0.08);
      const canary = hits(200, 0.4);
      base.forEach((esc, i) => aggA.ingestEvent({ session: `b${i}`, type: 'outcome', value: esc ? 'escalated' : 'resolved', attribution: { release: 'support-agent@1.0.0' } }));
      canary.forEach((esc, i) => aggB.ingestEvent({ session: `c${i}`, type: 'outcome', value: esc ? 'escalated' : 'resolved', attribution: { release: 'support-agent@1.1.0' } }));
      assert.deepEqual(await b.tickOnce(true), [], 'the standby publishes and judges nothing');
      const [judged] = await a.tickOnce(true);
      assert.ok(judged);
      const esc = judged.stored.result.metrics[0]!;
      assert.deepEqual([esc.counts.window.baseline.n, esc.counts.window.canary.n], [200, 200]);
      assert.equal(esc.counts.window.canary.x, canary.filter(Boolean).length);
      assert.equal(judged.stored.decision, 'rollback');
      assert.equal((await call('GET', `/v1/rollouts/${id}`)).body.status, 'rolling-back');

      await a.stop();
      await b.tickOnce();
      assert.equal(b.leader, true, 'the standby takes over');
    } finally {
      await a.stop();
      await b.stop();
      await other.close();
    }
  });
});
