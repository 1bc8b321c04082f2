import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request } from 'undici';
import { agentRoute, config, release, startGateway, startUpstream } from './testing.js';

test('headers upstream: release, digest, cohort, rollout, namespace, constraints, trace context; client sluice-* headers stripped', async () => {
  const base = await startUpstream('base');
  const cand = await startUpstream('cand');
  const { gw, url } = await startGateway(
    config(1, [agentRoute(release('support-agent@1.0.0', [base.url]), { id: 'ro-1', strategy: 'canary', unit: 'session', weight: 0, candidate: release('support-agent@1.1.0', [cand.url]) }, { constraints: ['external-actions=off', 'high-risk=approve'] })]),
  );
  try {
    const res = await request(`${url}/chat?x=1`, {
      headers: {
        'sluice-session': 's-1',
        'sluice-cohort': 'canary',
        'sluice-release': 'support-agent@1.1.0',
        'sluice-release-digest': 'sha256:evil',
        'sluice-rollout': 'nope',
        'sluice-memory-namespace': 'other',
        'sluice-constraints': 'none',
        baggage: 'sluice.cohort=canary,team=blue',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), { served: 'base' }, 'the spoofed cohort had no effect');
    const h = base.seen[0]?.headers ?? {};
    assert.equal(base.seen[0]?.url, '/chat?x=1');
    assert.equal(h['sluice-release'], 'support-agent@1.0.0');
    assert.match(String(h['sluice-release-digest']), /^sha256:[0-9a-f]{64}$/);
    assert.equal(h['sluice-cohort'], 'baseline');
    assert.equal(h['sluice-rollout'], 'ro-1');
    assert.equal(h['sluice-memory-namespace'], 'mem/support-agent@1.0.0');
    assert.equal(h['sluice-constraints'], 'external-actions=off, high-risk=approve');
    assert.equal(h['sluice-session'], 's-1');
    assert.equal(h.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'a valid client trace is kept');
    assert.equal(h.baggage, 'team=blue,sluice.release=support-agent%401.0.0,sluice.cohort=baseline');
    assert.equal(cand.seen.length, 0);

    await request(`${url}/chat`, { headers: { 'sluice-session': 's-2', traceparent: 'garbage' } }).then((r) => r.body.dump());
    assert.match(String(base.seen[1]?.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.notEqual(base.seen[1]?.headers.traceparent, 'garbage');
  } finally {
    await gw.stop();
    await base.close();
    await cand.close();
  }
});

test('a session-affine route with no key issues a sluice_session cookie, and the cookie then keys the unit', async () => {
  const base = await startUpstream('base');
  const { gw, url } = await startGateway(config(1, [agentRoute(release('a@1', [base.url]))]));
  try {
    const first = await request(`${url}/x`);
    await first.body.dump();
    const cookie = String(first.headers['set-cookie']);
    assert.match(cookie, /^sluice_session=[0-9a-f-]{36}; HttpOnly; SameSite=Lax; Path=\/$/);
    const id = cookie.slice('sluice_session='.length, cookie.indexOf(';'));
    assert.equal(base.seen[0]?.headers['sluice-session'], id);
    const second = await request(`${url}/x`, { headers: { cookie: `theme=dark; sluice_session=${id}` } });
    await second.body.dump();
    assert.equal(second.headers['set-cookie'], undefined, 'no new cookie when the client has one');
    assert.equal(base.seen[1]?.headers['sluice-session'], id);
  } finally {
    await gw.stop();
    await base.close();
  }
});

test('routes match by host, path prefix and header, first match wins; no match is a 404', async () => {
  const a = await startUpstream('a');
  const b = await startUpstream('b');
  const c = await startUpstream('c');
  const { gw, url } = await startGateway(
    config(1, [
      { ...agentRoute(release('a@1', [a.url])), agent: 'a', match: { host: 'agents.example', pathPrefix: '/v1' } },
      { ...agentRoute(release('b@1', [b.url])), agent: 'b', match: { header: { name: 'X-Agent', value: 'b' } } },
      { ...agentRoute(release('c@1', [c.url])), agent: 'c', match: { pathPrefix: '/c' } },
    ]),
  );
  try {
    const served = async (path: string, headers: Record<string, string> = {}) => {
      const r = await request(`${url}${path}`, { headers });
      const body = (await r.body.json()) as { served?: string };
      return r.statusCode === 200 ? body.served : r.statusCode;
    };
    assert.equal(await served('/v1/chat', { host: 'Agents.Example:7701' }), 'a');
    assert.equal(await served('/v10', { host: 'agents.example' }), 404);
    assert.equal(await served('/v1/chat', { 'x-agent': 'b' }), 'b');
    assert.equal(await served('/c/x', { 'x-agent': 'nope' }), 'c');
    assert.equal(await served('/d'), 404);
  } finally {
    await gw.stop();
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

test('an upstream that refuses connections gives a 502 JSON naming the release, quickly', async () => {
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const dead = `http://127.0.0.1:${(probe.address() as { port: number }).port}`;
  await new Promise<void>((r) => probe.close(() => r()));
  const { gw, url } = await startGateway(config(1, [agentRoute(release('support-agent@9.9.9', [dead]))]));
  try {
    const t = Date.now();
    const res = await request(`${url}/chat`, { method: 'POST', body: 'hello', headers: { 'sluice-session': 's' } });
    const body = (await res.body.json()) as { error: { message: string; details: Array<{ where: string }> }; release: string; reason: string };
    assert.equal(res.statusCode, 502);
    assert.equal(body.release, 'support-agent@9.9.9');
    assert.equal(body.reason, 'refused');
    assert.match(body.error.message, /support-agent@9\.9\.9/);
    assert.equal(body.error.details[0]?.where, dead);
    assert.ok(Date.now() - t < 2_000);
    const m = gw.measurements.drain().requests;
    assert.equal(m[0]?.error, 'refused');
    assert.equal(m[0]?.status, 502);
  } finally {
    await gw.stop();
  }
});

test('an upstream that accepts but never answers gives a 504 after the headers timeout, never a hang', async () => {
  const held = new Set<Socket>();
  const silent = createServer((s) => void held.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  const { gw, url } = await startGateway(config(1, [agentRoute(release('slow@1', [`http://127.0.0.1:${port}`]))]), { upstream: { headersTimeoutMs: 300 } });
  try {
    const t = Date.now();
    const res = await request(`${url}/`, { headers: { 'sluice-session': 's' } });
    const body = (await res.body.json()) as { release: string; reason: string };
    assert.equal(res.statusCode, 504);
    assert.equal(body.release, 'slow@1');
    assert.equal(body.reason, 'timeout');
    assert.ok(Date.now() - t < 3_000);
  } finally {
    await gw.stop();
    for (const s of held) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});

test('request bodies stream through unchanged; JSON usage and sluice-outcome are measured per cohort and exposed on /metrics', async () => {
  const base = await startUpstream('base', (_req, res, body) => {
    const out = JSON.stringify({ bytes: body.length, usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } });
    res.writeHead(201, { 'content-type': 'application/json', 'sluice-outcome': 'resolved' });
    res.end(out);
  });
  const { gw, url } = await startGateway(config(1, [agentRoute(release('a@1', [base.url]))]));
  try {
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const res = await request(`${url}/upload`, { method: 'POST', body: big, headers: { 'sluice-session': 's', 'content-type': 'application/octet-stream' } });
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers['sluice-outcome'], undefined, 'upstream-to-gateway headers are not passed on');
    assert.equal(((await res.body.json()) as { bytes: number }).bytes, big.length);
    assert.ok(base.seen[0]?.body.equals(big));
    const [m] = gw.measurements.drain().requests;
    assert.equal(m?.cohort, 'baseline');
    assert.equal(m?.status, 201);
    assert.equal(m?.outcome, 'resolved');
    assert.deepEqual(m?.usage, { inputTokens: 11, outputTokens: 7, totalTokens: 18 });
    assert.ok((m?.ttfbMs ?? -1) >= 0 && (m?.latencyMs ?? 0) >= (m?.ttfbMs ?? 0));
    const metrics = await (await request(`${url}/metrics`)).body.text();
    assert.match(metrics, /sluice_gateway_requests_total\{agent="support-agent",release="a@1",cohort="baseline",code="2xx"\} 1/);
    assert.match(metrics, /sluice_gateway_tokens_total\{agent="support-agent",release="a@1",cohort="baseline",type="input"\} 11/);
    assert.match(metrics, /sluice_gateway_outcomes_total\{[^}]*outcome="resolved"\} 1/);
    assert.match(metrics, /sluice_gateway_request_duration_seconds_count\{agent="support-agent",release="a@1",cohort="baseline"\} 1/);
    assert.match(metrics, /sluice_gateway_affinity_degraded 0/);
  } finally {
    await gw.stop();
    await base.close();
  }
});

test('Expect: 100-continue (curl sends it for large bodies) is answered by the gateway and the body streams on', async () => {
  const base = await startUpstream('base');
  const { gw, url } = await startGateway(config(1, [agentRoute(release('a@1', [base.url]))]));
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const r = httpRequest(`${url}/upload`, { method: 'POST', headers: { expect: '100-continue', 'content-length': '5', 'sluice-session': 's' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      r.on('continue', () => r.end('hello'));
      r.on('error', reject);
    });
    assert.equal(status, 200);
    assert.equal(base.seen[0]?.body.toString(), 'hello');
    assert.equal(base.seen[0]?.headers.expect, undefined);
  } finally {
    await gw.stop();
    await base.close();
  }
});

test('unit key from a configured JSON body path; intent strategy by header or body field', async () => {
  const base = await startUpstream('base');
  const cand = await startUpstream('cand');
  const { gw, url } = await startGateway(
    config(1, [
      agentRoute(
        release('a@1', [base.url]),
        { id: 'ro-i', strategy: 'intent', unit: 'session', weight: 0, intents: ['refund'], intentBodyPath: 'metadata.intent', candidate: release('a@2', [cand.url]) },
        { unitKey: { bodyPath: 'metadata.session_id' } },
      ),
    ]),
  );
  try {
    const post = async (body: unknown, headers: Record<string, string> = {}) => {
      const r = await request(`${url}/v1/chat`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
      return ((await r.body.json()) as { served: string }).served;
    };
    assert.equal(await post({ metadata: { session_id: 'conv-42', intent: 'refund' } }), 'cand');
    assert.equal(cand.seen[0]?.headers['sluice-session'], 'conv-42');
    assert.deepEqual(JSON.parse(cand.seen[0]?.body.toString() ?? ''), { metadata: { session_id: 'conv-42', intent: 'refund' } }, 'the buffered body is forwarded unchanged');
    assert.equal(await post({ metadata: { session_id: 'conv-43', intent: 'greeting' } }), 'base');
    assert.equal(await post({ metadata: {} }, { 'sluice-intent': 'refund' }), 'cand');
  } finally {
    await gw.stop();
    await base.close();
    await cand.close();
  }
});

test('/readyz is 503 before the first config and 200 after; older epochs are never applied', async () => {
  const base = await startUpstream('base');
  const newer = await startUpstream('newer');
  const { gw, source, url } = await startGateway(undefined);
  try {
    const before = await request(`${url}/readyz`);
    assert.equal(before.statusCode, 503);
    assert.equal(((await before.body.json()) as { ready: boolean }).ready, false);
    assert.equal((await request(`${url}/chat`)).statusCode, 503);
    source.push(config(5, [agentRoute(release('a@5', [newer.url]))]));
    source.push(config(4, [agentRoute(release('a@4', [base.url]))]));
    const ready = await request(`${url}/readyz`);
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(((await ready.body.json()) as { epoch: number }).epoch, 5);
    const r = await request(`${url}/chat`, { headers: { 'sluice-session': 's' } });
    assert.equal(((await r.body.json()) as { served: string }).served, 'newer');
    assert.equal(gw.status().refused.older, 1);
  } finally {
    await gw.stop();
    await base.close();
    await newer.close();
  }
});
