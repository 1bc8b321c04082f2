import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { replay, type RolloutEvent } from '@sluice/core';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { BACKENDS, dropSchema, freshPgliteDir, TEST_DATABASE_URL } from '../adapters/store/testing.js';
import { signManifest, testManifest } from '../control/testing.js';

const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function createSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await client.end();
  }
}

interface Up {
  child: ChildProcess;
  ready: { status: string; adminToken: string | null; urls: { api: string } };
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `sluice up` as a real child process, on the TypeScript sources. */
async function startUp(args: string[]): Promise<Up> {
  const child = spawn(
    process.execPath,
    ['--conditions=sluice-source', '--import', 'tsx', '--input-type=module', '-e', `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(['node', 'sluice', ...process.argv.slice(1)]);`, '--', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const ready = await new Promise<Up['ready']>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sluice up did not start in time: ${err}`)), 90_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, nl)));
      }
    });
    child.on('exit', (code) => reject(new Error(`sluice up exited with ${code}: ${err}`)));
  });
  return { child, ready, stderr: () => err, exited };
}

for (const backend of BACKENDS) describe(`crash recovery on ${backend}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
  const children: ChildProcess[] = [];
  const schema = `sluice_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    if (backend === 'postgres') await dropSchema(schema);
  });

  it('kill -9 between steps: after a restart on the same store the rollout continues, no event lost or duplicated', async () => {
    const dataDir = join(dir, 'data');
    const port = await freePort();
    const args = ['up', '--json', '--port', String(port), '--gateway-port', '0', '--data-dir', dataDir, '--tick-ms', '100'];
    if (backend === 'pglite') await freshPgliteDir(dataDir);
    else {
      await createSchema(schema);
      args.push('--database-url', `${TEST_DATABASE_URL}${TEST_DATABASE_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`);
    }

    const first = await startUp(args);
    children.push(first.child);
    const token = first.ready.adminToken!;
    assert.ok(token, 'the first start prints the admin token');
    const tokenFile = join(dataDir, 'admin-token');
    assert.ok(existsSync(tokenFile));
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    const api = first.ready.urls.api;

    const call = async (method: string, path: string, body?: unknown, key?: string) => {
      const res = await fetch(api + path, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    for (const v of ['1.0.0', '2.0.0']) {
      const m = testManifest('support-agent', v, v === '1.0.0' ? 0.1 : 0.3);
      assert.equal((await call('POST', '/v1/releases', { manifest: m, envelopes: [signManifest(m)] })).status, 201);
      assert.equal((await call('POST', '/v1/deployments', { release: `support-agent@${v}`, upstreams: [`http://127.0.0.1:${9000 + Number(v[0])}`] })).status, 201);
    }
    const plan = {
      agent: 'support-agent',
      candidate: 'support-agent@2.0.0',
      steps: [{ weight: 10, hold: '2s' }, { weight: 30, hold: '2s' }, { weight: 60, hold: '2s' }, { weight: 100 }],
    };
    const started = await call('POST', '/v1/rollouts', { plan }, 'start-1');
    assert.equal(started.status, 201);
    const id = started.body.id as string;

    // Wait until the loop has moved it to the second step on its own, then kill it hard.
    for (let i = 0; ; i++) {
      const r = await call('GET', `/v1/rollouts/${id}`);
      if (r.body.state.stepIndex >= 1) break;
      assert.ok(i < 100, 'the loop advances the first step');
      await new Promise((r) => setTimeout(r, 100));
    }
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startUp(args);
    children.push(second.child);
    assert.equal(second.ready.adminToken, null, 'the admin token is shown on the first start only');

    // The client retries its start after the crash with the same key: it gets the same rollout back.
    const retried = await call('POST', '/v1/rollouts', { plan }, 'start-1');
    assert.equal(retried.status, 201);
    assert.equal(retried.body.id, id);
    assert.equal((await call('GET', '/v1/rollouts')).body.rollouts.length, 1, 'no second rollout');
    let final: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (let i = 0; ; i++) {
      final = (await call('GET', `/v1/rollouts/${id}`)).body;
      if (final.status === 'promoted') break;
      assert.ok(i < 200, `the restarted loop finishes the rollout (status ${final.status})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const { body } = await call('GET', `/v1/rollouts/${id}/events`);
    const stored = body.events as Array<{ seq: number; event: RolloutEvent }>;
    assert.deepEqual(stored.map((e) => e.seq), stored.map((_, i) => i + 1), 'contiguous log');
    const events = stored.map((e) => e.event);
    assert.equal(new Set(events.map((e) => e.requestId)).size, events.length, 'no event twice');
    assert.deepEqual(
      events.map((e) => (e.type === 'step-advanced' ? `${e.type}:${e.weight}` : e.type)),
      ['created', 'started', 'step-advanced:10', 'step-advanced:30', 'step-advanced:60', 'step-advanced:100', 'promoted'],
    );
    // Each hold was honoured across the crash: no step came early.
    const at = (w: number) => Date.parse(events.find((e) => e.type === 'step-advanced' && e.weight === w)!.at);
    for (const [from, to] of [[10, 30], [30, 60], [60, 100]] as const) assert.ok(at(to) - at(from) >= 2000, `held ${from}% for 2s`);
    assert.deepEqual(replay(events), final.state, 'the snapshot is the replayed log');
    const verify = await call('GET', '/v1/audit/verify');
    assert.equal(verify.body.ok, true, JSON.stringify(verify.body.problems));

    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, 'graceful shutdown on SIGTERM');
    assert.match(second.stderr(), /shutting down/);
  });
});
