import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { RolloutRoute } from '@sluice/core';
import { agentRoute, config, inParallel, release, startGateway, startUpstream } from './testing.js';

const until = async (cond: () => boolean, ms = 3_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('shadow: the candidate gets a mirrored copy, the client only ever sees baseline bytes, and both outcomes are paired', async () => {
  const base = await startUpstream('base', (_req, res, body) => {
    res.writeHead(200, { 'content-type': 'application/json', 'sluice-outcome': 'resolved' });
    res.end(JSON.stringify({ from: 'BASELINE', echo: body.toString() }));
  });
  const cand = await startUpstream('cand', (_req, res) => {
    // Different status, headers, size and timing, so any leak would show.
    setTimeout(() => {
      res.writeHead(500, { 'content-type': 'text/plain', 'x-candidate': 'yes', 'sluice-outcome': 'failed', 'set-cookie': 'cand=1' });
      res.end('CANDIDATE-BYTES'.repeat(1000));
    }, 5);
  });
  const { gw, client } = await startGateway(
    config(1, [agentRoute(release('a@1', [base.url]), { id: 'ro-shadow', strategy: 'shadow', unit: 'session', weight: 100, candidate: release('a@2', [cand.url]) })]),
  );
  try {
    const n = 200;
    const bodies = await inParallel(
      Array.from({ length: n }, (_, i) => i),
      16,
      async (i) => {
        const r = await client.request({ path: '/chat', method: 'POST', body: `q${i}`, headers: { 'sluice-session': `s${i}`, 'content-type': 'text/plain' } });
        assert.equal(r.statusCode, 200);
        assert.equal(r.headers['x-candidate'], undefined);
        assert.equal(r.headers['set-cookie'], undefined);
        return r.body.text();
      },
    );
    for (const [i, b] of bodies.entries()) {
      assert.ok(!b.includes('CANDIDATE'), 'no candidate byte reaches the client');
      assert.deepEqual(JSON.parse(b), { from: 'BASELINE', echo: `q${i}` });
    }
    await until(() => cand.seen.length === n);
    assert.deepEqual(new Set(cand.seen.map((s) => s.body.toString())), new Set(bodies.map((_, i) => `q${i}`)), 'the mirror carries the same body');
    assert.equal(cand.seen[0]?.headers['sluice-cohort'], 'shadow');
    assert.equal(cand.seen[0]?.headers['sluice-release'], 'a@2');
    let paired = 0;
    await until(() => (paired += gw.measurements.drain().pairs.length) === n);
    assert.equal(paired, n, 'one pair per mirrored request');
  } finally {
    await client.close();
    await gw.stop();
    await base.close();
    await cand.close();
  }
});

test('shadow pairs record both sides: status, latency and sluice-outcome', async () => {
  const base = await startUpstream('base', (_req, res) => {
    res.writeHead(200, { 'sluice-outcome': 'resolved' });
    res.end('ok');
  });
  const cand = await startUpstream('cand', (_req, res) => {
    res.writeHead(503, { 'sluice-outcome': 'escalated' });
    res.end('no');
  });
  const { gw, url } = await startGateway(
    config(1, [agentRoute(release('a@1', [base.url]), { id: 'ro-pair', strategy: 'shadow', unit: 'session', weight: 100, candidate: release('a@2', [cand.url]) })]),
  );
  try {
    const r = await request(`${url}/`, { headers: { 'sluice-session': 'p1' } });
    assert.equal(await r.body.text(), 'ok');
    let pairs: ReturnType<typeof gw.measurements.drain>['pairs'] = [];
    const requests: ReturnType<typeof gw.measurements.drain>['requests'] = [];
    await until(() => {
      const d = gw.measurements.drain();
      pairs = pairs.concat(d.pairs);
      requests.push(...d.requests);
      return pairs.length === 1;
    });
    const [p] = pairs;
    assert.equal(p?.rollout, 'ro-pair');
    assert.equal(p?.unit, 'p1');
    assert.equal(p?.baseline.status, 200);
    assert.equal(p?.baseline.outcome, 'resolved');
    assert.equal(p?.shadow.status, 503);
    assert.equal(p?.shadow.outcome, 'escalated');
    assert.equal(p?.shadow.release, 'a@2');
    assert.ok((p?.shadow.latencyMs ?? -1) >= 0);
    assert.deepEqual(requests.map((m) => m.cohort).sort(), ['baseline', 'shadow']);
  } finally {
    await gw.stop();
    await base.close();
    await cand.close();
  }
});

async function twoReleases() {
  const base = await startUpstream('base', undefined, { record: false });
  const cand = await startUpstream('cand', undefined, { record: false });
  return { base, cand, B: release('a@1', [base.url]), C: release('a@2', [cand.url]) };
}

test('rollback (drain): new units go to the baseline at once, canary sessions keep their release and are counted; hard cuts them over', async () => {
  const { base, cand, B, C } = await twoReleases();
  const ro = (extra: Partial<RolloutRoute> = {}): RolloutRoute => ({ id: 'ro-rb', strategy: 'canary', unit: 'session', weight: 50, candidate: C, ...extra });
  const { gw, source, client } = await startGateway(config(1, [agentRoute(B, ro())]));
  try {
    const served = (s: string) => client.request({ path: '/', method: 'GET', headers: { 'sluice-session': s } }).then(async (r) => ((await r.body.json()) as { served: string }).served);
    const sessions = Array.from({ length: 400 }, (_, i) => `s${i}`);
    const before = await inParallel(sessions, 32, served);
    const onCanary = sessions.filter((_, i) => before[i] === 'cand');
    assert.ok(onCanary.length > 100 && onCanary.length < 300);

    source.push(config(2, [agentRoute(B, ro({ rolledBack: { mode: 'drain' } }))]));
    const fresh = await inParallel(Array.from({ length: 200 }, (_, i) => `new-${i}`), 32, served);
    assert.ok(fresh.every((x) => x === 'base'), 'every new unit goes to the baseline');
    const during = await inParallel(sessions, 32, served);
    assert.deepEqual(during, before, 'sessions in flight keep their release while draining');
    const [d] = gw.status().drains;
    assert.equal(d?.rollout, 'ro-rb');
    assert.equal(d?.mode, 'drain');
    assert.equal(d?.sessions, onCanary.length, 'the drain counts the canary sessions still active');
    assert.equal(d?.requests, onCanary.length);
    assert.equal(d?.inflight, 0);

    source.push(config(3, [agentRoute(B, ro({ rolledBack: { mode: 'hard' } }))]));
    const after = await inParallel(sessions, 32, served);
    assert.ok(after.every((x) => x === 'base'), 'hard rollback cuts every session over');
    assert.equal(gw.status().drains[0]?.mode, 'hard');
  } finally {
    await client.close();
    await gw.stop();
    await base.close();
    await cand.close();
  }
});

test('blue-green: new sessions go to the new release; existing ones migrate only when their upstream says sluice-boundary: safe', async () => {
  const base = await startUpstream('base', (req, res) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (req.url === '/done') headers['sluice-boundary'] = 'safe';
    res.writeHead(200, headers);
    res.end('{"served":"base"}');
  });
  const cand = await startUpstream('cand', undefined, { record: false });
  const B = release('a@1', [base.url]);
  const C = release('a@2', [cand.url]);
  const bg = (weight: number): RolloutRoute => ({ id: 'ro-bg', strategy: 'blue-green', unit: 'session', weight, candidate: C });
  const { gw, source, client } = await startGateway(config(1, [agentRoute(B, bg(0))]));
  try {
    const served = (s: string, path = '/') =>
      client.request({ path, method: 'GET', headers: { 'sluice-session': s } }).then(async (r) => {
        assert.equal(r.headers['sluice-boundary'], undefined);
        return ((await r.body.json()) as { served: string }).served;
      });
    const existing = Array.from({ length: 50 }, (_, i) => `old-${i}`);
    assert.ok((await inParallel(existing, 16, served)).every((x) => x === 'base'));

    source.push(config(2, [agentRoute(B, bg(100))]));
    assert.ok((await inParallel(Array.from({ length: 50 }, (_, i) => `new-${i}`), 16, served)).every((x) => x === 'cand'), 'new sessions go green');
    assert.ok((await inParallel(existing, 16, served)).every((x) => x === 'base'), 'existing sessions stay until a safe boundary');

    // Half of them reach a safe boundary.
    const half = existing.slice(0, 25);
    await inParallel(half, 16, (s) => served(s, '/done'));
    await new Promise((r) => setTimeout(r, 20));
    const now = await inParallel(existing, 16, served);
    assert.ok(now.slice(0, 25).every((x) => x === 'cand'), 'migrated at the boundary');
    assert.ok(now.slice(25).every((x) => x === 'base'), 'the others have not moved');
  } finally {
    await client.close();
    await gw.stop();
    await base.close();
    await cand.close();
  }
});
