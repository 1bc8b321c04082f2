import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { dropSchema, TEST_DATABASE_URL } from '../adapters/store/testing.js';
import { openControlPlane, type ControlPlane } from './plane.js';
import { testManifest } from './testing.js';

/** Two control replicas on one PostgreSQL: one bootstrap, one rollout loop, shared routing epochs. */
describe('control replicas on postgres', () => {
  const schema = `sluice_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'sluice-replica-')));
  let planes: ControlPlane[] = [];
  after(async () => {
    for (const p of planes) {
      await p.loop.stop();
      p.routing.close();
      await p.db.close();
    }
    await dropSchema(schema);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('start together safely, elect one rollout loop, and see each other’s changes', async () => {
    planes = await Promise.all(dirs.map((dataDir) => openControlPlane({ dataDir, databaseUrl: TEST_DATABASE_URL, schema, port: 0 })));
    const [a, b] = planes as [ControlPlane, ControlPlane];
    assert.equal(planes.filter((p) => p.adminToken).length, 1, 'exactly one replica creates the admin token');
    assert.equal(planes.filter((p) => p.appliedMigrations.length > 0).length, 1, 'exactly one replica migrates');
    const token = (a.adminToken ?? b.adminToken)!.token;

    await a.loop.tickOnce();
    await b.loop.tickOnce();
    assert.equal([a.loop.leader, b.loop.leader].filter(Boolean).length, 1, 'one loop leader');
    await (a.loop.leader ? a : b).loop.stop();
    await (a.loop.leader ? b : a).loop.tickOnce();
    assert.ok(a.loop.leader || b.loop.leader, 'the standby takes over once the leader stops');

    const call = (p: ControlPlane, path: string, body?: unknown) =>
      p.app.request(path, { method: body ? 'POST' : 'GET', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const epoch = ((await (await call(b, '/v1/routing')).json()) as { epoch: number }).epoch;
    const waiting = call(b, `/v1/routing?after=${epoch}&waitMs=10000`);
    const m = testManifest('support-agent', '1.0.0');
    assert.equal((await call(a, '/v1/releases', { manifest: m })).status, 201);
    assert.equal((await call(a, '/v1/deployments', { release: 'support-agent@1.0.0', upstreams: ['http://127.0.0.1:9001'] })).status, 201);
    const seen = (await (await waiting).json()) as { epoch: number; agents: unknown[] };
    assert.ok(seen.epoch > epoch, 'a long-poll on one replica wakes for a change made on the other');
    assert.equal(seen.agents.length, 1);
  });
});
