import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { RedisAffinityStore } from './redis.js';

const REDIS_URL = process.env.SLUICE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A TCP relay in front of the real Redis that the test can cut and restore. */
async function relay(port = 0): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const target = new URL(REDIS_URL);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

const waitFor = async (cond: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('setIfAbsent is first-writer-wins across two stores sharing Redis', async () => {
  const prefix = `sluice-test:${randomUUID()}:`;
  const a = new RedisAffinityStore({ url: REDIS_URL, keyPrefix: prefix });
  const b = new RedisAffinityStore({ url: REDIS_URL, keyPrefix: prefix });
  try {
    // A missing Redis fails here rather than skipping.
    await Promise.all([a.ready(), b.ready()]);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).setIfAbsent('r1:s1', i % 2 ? 'canary' : 'baseline', 60_000)),
    );
    assert.equal(new Set(answers).size, 1, 'every racer sees the same winner');
    assert.equal(await a.get('r1:s1'), answers[0]);
    await b.set('r1:s1', 'canary', 60_000);
    assert.equal(await a.get('r1:s1'), 'canary');
    await a.set('r1:short', 'canary', 50);
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await b.get('r1:short'), undefined, 'the idle TTL expires the entry');
    assert.equal(a.health().degraded, false);
  } finally {
    await a.close();
    await b.close();
  }
});

test('an unreachable Redis degrades to the proposed cohort and recovers when it returns', async () => {
  const prefix = `sluice-test:${randomUUID()}:`;
  const r = await relay();
  const port = r.port;
  const changes: boolean[] = [];
  const s = new RedisAffinityStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: prefix, onHealthChange: (h) => changes.push(h.degraded) });
  try {
    await s.ready();
    assert.equal(await s.setIfAbsent('k', 'canary', 60_000), 'canary');
    // Cut Redis off.
    await new Promise<void>((res) => {
      r.server.close(() => res());
      for (const sock of r.sockets) sock.destroy();
    });
    await waitFor(() => s.health().degraded);
    assert.equal(await s.setIfAbsent('k', 'baseline', 60_000), 'baseline', 'falls back to the proposal');
    assert.equal(s.health().backend, 'redis');
    // Bring it back on the same port.
    const back = await relay(port);
    try {
      await waitFor(() => !s.health().degraded);
      assert.equal(await s.setIfAbsent('k', 'baseline', 60_000), 'canary', 'the recorded assignment is served again');
      assert.deepEqual(changes.slice(-2), [true, false]);
    } finally {
      await s.close();
      for (const sock of back.sockets) sock.destroy();
      await new Promise<void>((res) => back.server.close(() => res()));
    }
  } finally {
    await s.close();
  }
});
