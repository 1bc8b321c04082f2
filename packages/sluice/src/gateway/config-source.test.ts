import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { RoutingConfig } from '@sluice/core';
import { ControlPlaneConfigSource, FileConfigSource, parseRoutingConfig } from './config-source.js';
import { agentRoute, config, release, startGateway, startUpstream } from './testing.js';

const until = async (cond: () => boolean | Promise<boolean>, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** A stand-in for the control plane's `GET /v1/routing?after=&waitMs=` long poll. */
async function fakeControlPlane(token: string, port = 0) {
  let current: RoutingConfig | undefined;
  const waiters = new Set<() => void>();
  const polls: Array<{ after: number; waitMs: number; auth: string | undefined }> = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end();
      return;
    }
    const after = Number(u.searchParams.get('after'));
    const waitMs = Number(u.searchParams.get('waitMs'));
    polls.push({ after, waitMs, auth: req.headers.authorization });
    const answer = () => {
      if (current && current.epoch > after) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(current));
        return true;
      }
      return false;
    };
    if (answer()) return;
    const t = setTimeout(() => {
      waiters.delete(wake);
      res.writeHead(204).end();
    }, waitMs);
    const wake = () => {
      if (answer()) {
        clearTimeout(t);
        waiters.delete(wake);
      }
    };
    waiters.add(wake);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    port: (server.address() as AddressInfo).port,
    polls,
    publish(c: RoutingConfig) {
      current = c;
      for (const w of [...waiters]) w();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('long-poll source: config arrives, updates are pushed, the control plane going away leaves the gateway serving the last good config (stale), and it recovers', async () => {
  const v1 = await startUpstream('v1');
  const v2 = await startUpstream('v2');
  const cp = await fakeControlPlane('tok');
  const source = new ControlPlaneConfigSource({ url: cp.url, token: 'tok', waitMs: 500, retryMs: 50 });
  const { gw, url } = await startGateway(undefined, { source });
  try {
    assert.equal((await request(`${url}/readyz`)).statusCode, 503, 'not ready before the first config');
    cp.publish(config(3, [agentRoute(release('a@1', [v1.url]))]));
    await until(() => gw.status().epoch === 3);
    assert.equal(cp.polls[0]?.waitMs, 0, 'the first poll does not wait');
    assert.equal(cp.polls[0]?.auth, 'Bearer tok');
    cp.publish(config(4, [agentRoute(release('a@2', [v2.url]))]));
    await until(() => gw.status().epoch === 4);
    const served = async () => ((await (await request(`${url}/x`, { headers: { 'sluice-session': 's' } })).body.json()) as { served: string }).served;
    assert.equal(await served(), 'v2');

    const port = cp.port;
    await cp.close();
    await until(() => gw.status().stale);
    const ready = await request(`${url}/readyz`);
    assert.equal(ready.statusCode, 200);
    const body = (await ready.body.json()) as { stale: boolean; epoch: number; source: { connected: boolean; lastError?: string } };
    assert.equal(body.stale, true);
    assert.equal(body.epoch, 4);
    assert.equal(body.source.connected, false);
    assert.ok(body.source.lastError);
    assert.equal(await served(), 'v2', 'fail-static: the last good config keeps serving');
    assert.match(await (await request(`${url}/metrics`)).body.text(), /sluice_gateway_config_stale 1/);

    const back = await fakeControlPlane('tok', port);
    try {
      back.publish(config(2, [agentRoute(release('a@0', [v1.url]))]));
      await until(() => !gw.status().stale);
      assert.equal(gw.status().epoch, 4, 'an older epoch is never applied');
      back.publish(config(5, [agentRoute(release('a@1', [v1.url]))]));
      await until(() => gw.status().epoch === 5);
      assert.equal(await served(), 'v1');
    } finally {
      await source.stop();
      await back.close();
    }
  } finally {
    await source.stop();
    await gw.stop();
    await v1.close();
    await v2.close();
  }
});

test('file source re-reads on change; an invalid config is refused naming the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-gw-'));
  const up = await startUpstream('up');
  const file = join(dir, 'routing.json');
  writeFileSync(file, JSON.stringify(config(1, [agentRoute(release('a@1', [up.url]))])));
  const source = new FileConfigSource(file, 20);
  const { gw } = await startGateway(undefined, { source });
  try {
    await until(() => gw.status().epoch === 1);
    writeFileSync(file, JSON.stringify({ epoch: 2, generatedAt: 'now', agents: [{ agent: 'x', match: {}, affinityTtlSeconds: 0, baseline: {} }] }));
    await until(() => source.status().connected === false);
    assert.match(source.status().lastError ?? '', /not a valid routing config/);
    assert.equal(gw.status().epoch, 1);
    assert.throws(
      () => parseRoutingConfig({ epoch: 1, generatedAt: 'x', agents: [{ agent: 'a', match: {}, affinityTtlSeconds: 5, baseline: { release: 'a@1', digest: 'sha256:no', upstreams: ['http://x'], memoryNamespace: 'm' } }] }, 'routing.json'),
      (e: Error & { details: Array<{ where: string }> }) => e.details.some((d) => d.where === 'routing.json#/agents/0/baseline/digest'),
    );
  } finally {
    await gw.stop();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
