import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { RedisAffinityStore } from '../adapters/affinity/redis/redis.js';
import { agentRoute, config, inParallel, release, startGateway, startUpstream } from './testing.js';

const REDIS_URL = process.env.SLUICE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

test('two gateways sharing Redis agree on every session even when their weights differ', async () => {
  const base = await startUpstream('base', undefined, { record: false });
  const cand = await startUpstream('cand', undefined, { record: false });
  const prefix = `sluice-test:${randomUUID()}:`;
  const storeA = new RedisAffinityStore({ url: REDIS_URL, keyPrefix: prefix });
  const storeB = new RedisAffinityStore({ url: REDIS_URL, keyPrefix: prefix });
  // A missing Redis fails the test here.
  await Promise.all([storeA.ready(), storeB.ready()]);
  const B = release('a@1', [base.url]);
  const C = release('a@2', [cand.url]);
  const at = (w: number) => config(1, [agentRoute(B, { id: 'ro-redis', strategy: 'canary', unit: 'session', weight: w, candidate: C })]);
  // Gateway B lags behind (an older weight): the first assignment, wherever it was made, wins.
  const a = await startGateway(at(50), { affinity: storeA });
  const b = await startGateway(at(5), { affinity: storeB });
  try {
    const served = (client: typeof a.client) => (s: string) =>
      client.request({ path: '/', method: 'GET', headers: { 'sluice-session': s } }).then(async (r) => ((await r.body.json()) as { served: string }).served);
    const sessions = Array.from({ length: 600 }, (_, i) => `s${i}`);
    const viaA = await inParallel(sessions, 32, served(a.client));
    const viaB = await inParallel(sessions, 32, served(b.client));
    assert.deepEqual(viaB, viaA);
    const canary = viaA.filter((x) => x === 'cand').length;
    assert.ok(canary > 200 && canary < 400, `about half on the canary at 50%: ${canary}`);
    // And racing: new sessions hit both gateways at once.
    const racing = Array.from({ length: 300 }, (_, i) => `race-${i}`);
    const [ra, rb] = await Promise.all([inParallel(racing, 32, served(a.client)), inParallel(racing, 32, served(b.client))]);
    assert.deepEqual(rb, ra, 'SET NX: racing gateways never disagree');
    const ready = (await (await request(`${a.url}/readyz`)).body.json()) as { affinity: { backend: string; degraded: boolean } };
    assert.deepEqual(ready.affinity, { backend: 'redis', degraded: false });
  } finally {
    await a.client.close();
    await b.client.close();
    await a.gw.stop();
    await b.gw.stop();
    await base.close();
    await cand.close();
  }
});

test('with Redis unreachable the gateway routes by the deterministic hash and says so on /readyz and /metrics', async () => {
  const base = await startUpstream('base', undefined, { record: false });
  const cand = await startUpstream('cand', undefined, { record: false });
  // Nothing listens on port 1.
  const store = new RedisAffinityStore({ url: 'redis://127.0.0.1:1', keyPrefix: `sluice-test:${randomUUID()}:` });
  const { gw, url, client } = await startGateway(
    config(1, [agentRoute(release('a@1', [base.url]), { id: 'ro-down', strategy: 'canary', unit: 'session', weight: 30, candidate: release('a@2', [cand.url]) })]),
    { affinity: store },
  );
  try {
    const served = (s: string) => client.request({ path: '/', method: 'GET', headers: { 'sluice-session': s } }).then(async (r) => ((await r.body.json()) as { served: string }).served);
    const sessions = Array.from({ length: 300 }, (_, i) => `s${i}`);
    const first = await inParallel(sessions, 16, served);
    const again = await inParallel(sessions, 16, served);
    assert.deepEqual(again, first, 'the hash alone keeps sessions stable while the weight holds');
    const ready = await request(`${url}/readyz`);
    assert.equal(ready.statusCode, 200);
    const body = (await ready.body.json()) as { affinity: { backend: string; degraded: boolean; reason?: string } };
    assert.equal(body.affinity.backend, 'redis');
    assert.equal(body.affinity.degraded, true);
    assert.ok(body.affinity.reason);
    assert.match(await (await request(`${url}/metrics`)).body.text(), /sluice_gateway_affinity_degraded 1/);
  } finally {
    await client.close();
    await gw.stop();
    await base.close();
    await cand.close();
  }
});
