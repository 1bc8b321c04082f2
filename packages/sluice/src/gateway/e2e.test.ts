import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { releaseDigest } from '@sluice/core';
import { signManifest, startTestControl, testManifest } from '../control/testing.js';
import { ReleaseStore } from '../release/store.js';
import { runCli } from '../testing/cli.js';
import { ControlPlaneConfigSource } from './config-source.js';
import { Gateway } from './gateway.js';
import { inParallel, startUpstream } from './testing.js';
import { gatewayPart } from './up.js';
import type { UpOptions } from '../server/up.js';

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Build, sign, register and deploy support-agent 1.0.0 (at `v1`) and 2.0.0 (at `v2`) under /support. */
async function deployTwoReleases(t: Awaited<ReturnType<typeof startTestControl>>, dir: string, v1: string, v2: string) {
  const store = ReleaseStore.open(join(dir, 'store'));
  for (const v of ['1.0.0', '2.0.0']) {
    const m = testManifest('support-agent', v, v === '1.0.0' ? 0.2 : 0.4);
    await store.putRelease(m);
    await store.putSignature(releaseDigest(m), signManifest(m));
  }
  const cli = (...args: string[]) => runCli(['--server', t.plane.http.url(), '--token', t.adminToken, '--store', join(dir, 'store'), ...args]);
  for (const v of ['1.0.0', '2.0.0']) assert.equal((await cli('release', 'register', `support-agent@${v}`)).code, 0);
  assert.equal((await cli('deploy', 'add', 'support-agent@1.0.0', '--upstream', v1, '--match-path-prefix', '/support')).code, 0);
  assert.equal((await cli('deploy', 'add', 'support-agent@2.0.0', '--upstream', v2, '--match-path-prefix', '/support')).code, 0);
  return cli;
}

test('under sluice up the gateway shares affinity through Redis when SLUICE_REDIS_URL is set', async () => {
  const t = await startTestControl('pglite');
  const saved = { url: process.env.SLUICE_REDIS_URL, prefix: process.env.SLUICE_REDIS_PREFIX };
  process.env.SLUICE_REDIS_URL = process.env.SLUICE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  process.env.SLUICE_REDIS_PREFIX = `sluice-test:${Date.now()}:`;
  const part = gatewayPart({ plane: t.plane, options: { gatewayPort: 0, host: '127.0.0.1' } as UpOptions });
  try {
    await part.start();
    let affinity: { backend: string; degraded: boolean } | undefined;
    for (let i = 0; i < 50 && affinity?.degraded !== false; i++) {
      affinity = ((await (await fetch(`${part.describe?.() as string}/readyz`)).json()) as { affinity: { backend: string; degraded: boolean } }).affinity;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(affinity, { backend: 'redis', degraded: false });
  } finally {
    await part.stop();
    for (const [k, v] of [['SLUICE_REDIS_URL', saved.url], ['SLUICE_REDIS_PREFIX', saved.prefix]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await t.dispose();
  }
});

test('end to end with the real control plane: deploy, canary at 50%, rollback drains; the long-poll gateway and the in-process one agree', async () => {
  const t = await startTestControl('pglite', { tickMs: 100 });
  await t.plane.http.start();
  await t.plane.loop.start();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-gw-e2e-'));
  const v1 = await startUpstream('v1', undefined, { record: false });
  const v2 = await startUpstream('v2', undefined, { record: false });
  const remote = new Gateway({ port: 0, source: new ControlPlaneConfigSource({ url: t.plane.http.url(), token: t.adminToken, waitMs: 1_000, retryMs: 50 }) });
  const local = gatewayPart({ plane: t.plane, options: { gatewayPort: 0, host: '127.0.0.1' } as UpOptions });
  try {
    const cli = await deployTwoReleases(t, dir, v1.url, v2.url);
    await remote.start();
    await local.start();
    const localUrl = local.describe?.() as string;

    const plan = join(dir, 'plan.yaml');
    writeFileSync(plan, 'agent: support-agent\ncandidate: support-agent@2.0.0\nsteps:\n  - weight: 50\n    hold: 1h\n  - weight: 100\n');
    const started = await cli('rollout', 'start', '-f', plan);
    assert.equal(started.code, 0, started.stderr);
    await until(() => remote.status().epoch !== null && (remote.status().epoch as number) > 0 && remote.status().ready);

    const served = (base: string) => async (s: string) => {
      const r = await fetch(`${base}/support/chat`, { headers: { 'sluice-session': s } });
      return ((await r.json()) as { served?: string }).served ?? `status ${r.status}`;
    };
    const remoteUrl = `http://127.0.0.1:${remote.port}`;
    const sessions = Array.from({ length: 300 }, (_, i) => `s${i}`);
    let viaRemote: string[] = [];
    for (let i = 0; i < 50; i++) {
      viaRemote = await inParallel(sessions, 16, served(remoteUrl));
      if (viaRemote.includes('v2')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const canary = viaRemote.filter((x) => x === 'v2').length;
    assert.ok(canary > 100 && canary < 200, `about half of 300 sessions on the canary: ${canary}`);
    assert.deepEqual(await inParallel(sessions, 16, served(localUrl)), viaRemote, 'in-process and long-poll gateways assign alike');

    const rb = await cli('rollout', 'rollback', 'support-agent', '--reason', 'e2e');
    assert.equal(rb.code, 0, rb.stderr);
    await until(() => remote.status().drains.length > 0);
    const fresh = await inParallel(Array.from({ length: 100 }, (_, i) => `new-${i}`), 16, served(remoteUrl));
    assert.ok(fresh.every((x) => x === 'v1'), 'new sessions go to the baseline after the rollback');
    assert.deepEqual(await inParallel(sessions, 16, served(remoteUrl)), viaRemote, 'canary sessions drain on their release');
    const [d] = remote.status().drains;
    assert.equal(d?.mode, 'drain');
    assert.equal(d?.sessions, canary);
  } finally {
    await local.stop();
    await remote.stop();
    await v1.close();
    await v2.close();
    await t.plane.http.stop();
    await t.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a drain rollback ends once the in-process gateway has moved every canary session back at a safe boundary', async () => {
  const t = await startTestControl('pglite', { tickMs: 100 });
  await t.plane.http.start();
  await t.plane.loop.start();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-gw-drain-'));
  const v1 = await startUpstream('v1', undefined, { record: false });
  // The candidate says each turn ends at a safe boundary, as the example agent does.
  const v2 = await startUpstream('v2', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'sluice-boundary': 'safe' });
    res.end(JSON.stringify({ served: 'v2' }));
  }, { record: false });
  const local = gatewayPart({ plane: t.plane, options: { gatewayPort: 0, host: '127.0.0.1' } as UpOptions });
  try {
    const cli = await deployTwoReleases(t, dir, v1.url, v2.url);
    await local.start();
    const base = local.describe?.() as string;
    const plan = join(dir, 'plan.yaml');
    writeFileSync(plan, 'agent: support-agent\ncandidate: support-agent@2.0.0\nsteps:\n  - weight: 50\n    hold: 1h\n  - weight: 100\n');
    assert.equal((await cli('rollout', 'start', '-f', plan)).code, 0);
    const served = async (s: string) => ((await (await fetch(`${base}/support/chat`, { headers: { 'sluice-session': s } })).json()) as { served?: string }).served;
    const sessions = Array.from({ length: 60 }, (_, i) => `d${i}`);
    let first: Array<string | undefined> = [];
    for (let i = 0; i < 50 && !first.includes('v2'); i++) {
      first = await inParallel(sessions, 8, served);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(first.includes('v2'), 'some sessions on the canary');

    assert.equal((await cli('rollout', 'rollback', 'support-agent', '--reason', 'drain test')).code, 0);
    const status = async () => (await cli('rollout', 'status', 'support-agent', '--json')).json<{ status: string }>().status;
    assert.equal(await status(), 'rolling-back');
    // Each canary session's next turn is still served by the candidate, which marks a safe
    // boundary; the gateway moves it back and reports the drain as it shrinks to zero.
    for (let i = 0; i < 100 && !(await inParallel(sessions, 8, served)).includes('v2'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok((await inParallel(sessions, 8, served)).every((x) => x === 'v1'), 'every session back on the baseline');
    let last = '';
    for (let i = 0; i < 100 && last !== 'rolled-back'; i++) {
      last = await status();
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(last, 'rolled-back');
    const log = (await cli('log', '--json')).json<Array<{ action: string; actor: string }>>();
    assert.ok(log.some((e) => e.action === 'rollout.drain-progress' && e.actor === 'sluice-gateway'), 'the drain was reported by the gateway');
  } finally {
    await local.stop();
    await v1.close();
    await v2.close();
    await t.plane.http.stop();
    await t.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
