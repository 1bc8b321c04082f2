import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openTestStore } from '../adapters/store/testing.js';
import { createAnalysisService } from '../analysis/service.js';
import { ControlClient } from '../control/client.js';
import { assembleControlPlane } from '../control/plane.js';
import { signManifest, testManifest } from '../control/testing.js';
import { ControlPlaneConfigSource } from './config-source.js';
import { Gateway } from './gateway.js';
import { MeasurementForwarder } from './measurement-forwarder.js';
import { Measurements, type RequestMeasurement } from './measurements.js';
import { inParallel, startUpstream } from './testing.js';

const record = (i: number): RequestMeasurement => ({
  at: i,
  agent: 'a',
  release: 'a@1',
  digest: 'sha256:x',
  cohort: 'baseline',
  status: 200,
  latencyMs: 1,
  ttfbMs: 1,
  bytes: 1,
});

test('the forwarder buffers within its bound and drops, never resends, what it could not deliver', async () => {
  const measurements = new Measurements(0);
  const series = measurements.seriesFor('a', 'a@1', 'baseline');
  const sent: number[] = [];
  let fail = false;
  const fwd = new MeasurementForwarder({
    measurements,
    maxBuffered: 3,
    maxBatch: 2,
    intervalMs: 60_000,
    send: async (batch) => {
      if (fail) throw new Error('control plane down');
      sent.push(...batch.map((m) => m.at));
    },
  });
  fwd.start();
  for (let i = 0; i < 5; i++) measurements.record(series, record(i));
  await fwd.flush();
  assert.deepEqual(sent, [0, 1, 2], 'two batches of at most 2, from a buffer of 3');
  assert.deepEqual(fwd.counters, { sent: 3, dropped: 2, failedBatches: 0 });
  fail = true;
  measurements.record(series, record(5));
  await fwd.flush();
  fail = false;
  await fwd.flush();
  assert.deepEqual(sent, [0, 1, 2], 'a failed batch is not sent again');
  assert.deepEqual(fwd.counters, { sent: 3, dropped: 3, failedBatches: 1 });
  measurements.record(series, record(6));
  await fwd.stop();
  assert.deepEqual(sent, [0, 1, 2, 6], 'stop sends what is left');
});

test("a standalone gateway's measurements reach the analysis, which rolls back a canary that fails requests", async () => {
  const store = await openTestStore('pglite');
  const analysis = await createAnalysisService({ priceFile: join(store.dir, 'prices.json'), aggregator: { sessionIdleMs: 0, settleMs: 0 } });
  const plane = await assembleControlPlane(store.db, { dataDir: join(store.dir, 'data'), port: 0, routes: [analysis.routes] });
  const loop = analysis.attach(plane);
  await plane.http.start();
  const v1 = await startUpstream('v1', undefined, { record: false });
  const v2 = await startUpstream('v2', (_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end('{"error":"broken"}');
  }, { record: false });
  const admin = new ControlClient({ server: plane.http.url(), token: plane.adminToken!.token });
  let gw: Gateway | undefined;
  let fwd: MeasurementForwarder | undefined;
  try {
    for (const [v, up] of [['1.0.0', v1.url], ['1.1.0', v2.url]] as const) {
      const m = testManifest('support-agent', v);
      await admin.command('/v1/releases', { manifest: m, envelopes: [signManifest(m)] });
      await admin.command('/v1/deployments', { release: `support-agent@${v}`, upstreams: [up], match: { pathPrefix: '/support' } });
    }
    const started = await admin.command<{ id: string }>('/v1/rollouts', {
      plan: {
        agent: 'support-agent',
        candidate: 'support-agent@1.1.0',
        steps: [{ weight: 50, gates: ['analysis'] }, { weight: 100 }],
        analysis: { interval: '1m', consecutive: 2, minSamples: 30, metrics: [{ name: 'error_rate', tolerance: { absolute: 0.01 } }] },
      },
    });
    await loop.tickOnce(); // the loop tracks the rollout, so its measurements are attributed

    const token = (await admin.command<{ token: string }>('/v1/tokens', { subject: 'edge-gateway', role: 'agent' })).token;
    const client = new ControlClient({ server: plane.http.url(), token, retryForMs: 0 });
    const measurements = new Measurements(0);
    gw = new Gateway({ port: 0, measurements, source: new ControlPlaneConfigSource({ url: plane.http.url(), token, waitMs: 1_000, retryMs: 50 }) });
    fwd = new MeasurementForwarder({ measurements, intervalMs: 60_000, send: (requests) => client.request('POST', '/v1/measurements', { body: { gateway: 'edge', requests } }) });
    fwd.start();
    await gw.start();
    for (let i = 0; i < 100 && !gw.status().ready; i++) await new Promise((r) => setTimeout(r, 20));

    const statuses = await inParallel(Array.from({ length: 300 }, (_, i) => `s${i}`), 16, async (s) => (await fetch(`http://127.0.0.1:${gw!.port}/support/chat`, { headers: { 'sluice-session': s } })).status);
    assert.ok(statuses.includes(500) && statuses.includes(200), 'both cohorts served');
    await fwd.flush();
    assert.equal(fwd.counters.sent, 300);
    assert.equal(analysis.aggregator.counters.requestsRecorded, 300);

    const [judged] = await loop.tickOnce(true);
    assert.equal(judged?.stored.decision, 'rollback');
    assert.equal((await admin.get<{ status: string }>(`/v1/rollouts/${started.id}`)).status, 'rolling-back');
  } finally {
    await fwd?.stop();
    await gw?.stop();
    await loop.stop();
    await v1.close();
    await v2.close();
    await plane.http.stop();
    plane.routing.close();
    await store.dispose();
  }
});
