import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { releaseDigest, replay, type RolloutEvent } from '@sluice/core';
import { BACKENDS } from '../adapters/store/testing.js';
import { ROLES } from './auth/roles.js';
import { watchRouting } from './routing/watch.js';
import { signManifest, startTestControl, testKey, testManifest, type TestControl } from './testing.js';

const plan = (candidate: string, steps: unknown[] = [{ weight: 10, hold: '1m' }, { weight: 50, hold: '1m' }, { weight: 100 }]) => ({
  agent: 'support-agent',
  candidate,
  steps,
});

for (const backend of BACKENDS) {
  describe(`control API on ${backend}`, () => {
    let t: TestControl;
    before(async () => {
      t = await startTestControl(backend);
    });
    after(async () => {
      await t?.dispose();
    });

    it('serves an OpenAPI 3.1 document in which every /v1 operation names its role', async () => {
      const { status, body } = await t.call('GET', '/v1/openapi.json', { token: null });
      assert.equal(status, 200);
      assert.equal(body.openapi, '3.1.0');
      const ops = Object.entries(body.paths as Record<string, Record<string, { 'x-sluice-role'?: string }>>).flatMap(([p, methods]) =>
        Object.entries(methods).map(([m, op]) => ({ p, m, role: op['x-sluice-role'] })),
      );
      assert.ok(ops.length >= 15, `${ops.length} operations`);
      for (const op of ops) assert.ok(op.role && (ROLES as readonly string[]).includes(op.role), `${op.m} ${op.p} names a role`);
    });

    it('registers a release by the digest it computes, idempotently, and refuses a wrong digest or a reused version', async () => {
      const m = testManifest('support-agent', '1.0.0');
      const r1 = await t.call('POST', '/v1/releases', { body: { manifest: m, envelopes: [signManifest(m)] } });
      assert.equal(r1.status, 201, JSON.stringify(r1.body));
      assert.equal(r1.body.digest, releaseDigest(m));
      assert.equal(r1.body.ref, 'support-agent@1.0.0');
      const again = await t.call('POST', '/v1/releases', { body: { manifest: m, envelopes: [signManifest(m)] } });
      assert.equal(again.status, 200);

      const wrong = await t.call('POST', '/v1/releases', { body: { manifest: testManifest('support-agent', '9.9.9'), digest: releaseDigest(m) } });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.error.kind, 'invalid');
      assert.equal(wrong.body.error.details[0].where, '/digest');
      assert.equal((await t.call('GET', '/v1/releases/support-agent@9.9.9')).status, 404, 'nothing stored');

      const reused = await t.call('POST', '/v1/releases', { body: { manifest: testManifest('support-agent', '1.0.0', 0.9) } });
      assert.equal(reused.status, 409);
      assert.match(reused.body.error.message, /already registered/);

      const huge = await t.call('POST', '/v1/releases', { body: { manifest: { ...m, padding: 'x'.repeat(5 * 1024 * 1024) } } });
      assert.equal(huge.status, 413);
      assert.equal(huge.body.error.kind, 'invalid');
      const bad = await t.call('POST', '/v1/releases', { body: { manifest: { ...m, agent: 'Bad Name' } } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.details[0].where, 'json/manifest/agent');
    });

    it('deploys a release, makes the first one stable, and publishes it in the routing config with a new epoch', async () => {
      const before = await t.call('GET', '/v1/routing');
      const d = await t.call('POST', '/v1/deployments', {
        body: { release: 'support-agent@1.0.0', upstreams: ['http://127.0.0.1:9001'], healthUrl: 'http://127.0.0.1:9001/health', match: { pathPrefix: '/support' } },
      });
      assert.equal(d.status, 201, JSON.stringify(d.body));
      const r = await t.call('GET', '/v1/routing');
      assert.ok(r.body.epoch > before.body.epoch);
      assert.equal(r.body.agents.length, 1);
      assert.deepEqual(r.body.agents[0].match, { pathPrefix: '/support' });
      assert.equal(r.body.agents[0].baseline.release, 'support-agent@1.0.0');
      assert.deepEqual(r.body.agents[0].baseline.upstreams, ['http://127.0.0.1:9001']);
      assert.equal(r.body.agents[0].rollout, undefined);

      const unknown = await t.call('POST', '/v1/deployments', { body: { release: 'support-agent@7.7.7', upstreams: ['http://x'] } });
      assert.equal(unknown.status, 404);
      const badUrl = await t.call('POST', '/v1/deployments', { body: { release: 'support-agent@1.0.0', upstreams: ['ftp://x'] } });
      assert.equal(badUrl.status, 400);
      assert.equal(badUrl.body.error.details[0].where, '/upstreams/0');
    });

    it('long-polls routing: answers as soon as the epoch moves past `after`', async () => {
      const { body: now } = await t.call('GET', '/v1/routing');
      const started = Date.now();
      const waiting = t.call('GET', `/v1/routing?after=${now.epoch}&waitMs=10000`);
      await new Promise((r) => setTimeout(r, 100));
      const m = testManifest('support-agent', '2.0.0');
      await t.call('POST', '/v1/releases', { body: { manifest: m } });
      await t.call('POST', '/v1/deployments', { body: { release: 'support-agent@2.0.0', upstreams: ['http://127.0.0.1:9002'] } });
      const r = await waiting;
      assert.ok(r.body.epoch > now.epoch);
      assert.ok(Date.now() - started < 5000, 'woken by the change, not by the timeout');
      const idle = Date.now();
      const same = await t.call('GET', `/v1/routing?after=${r.body.epoch}&waitMs=300`);
      assert.equal(same.body.epoch, r.body.epoch);
      assert.ok(Date.now() - idle >= 250, 'with nothing new it waits waitMs');
    });

    it('feeds in-process parts every new routing config, in epoch order', async () => {
      const seen: number[] = [];
      const w = watchRouting(t.plane, (c) => seen.push(c.epoch), { waitMs: 5000 });
      for (let i = 0; seen.length === 0 && i < 100; i++) await new Promise((r) => setTimeout(r, 20));
      const m = testManifest('support-agent', '2.5.0');
      await t.call('POST', '/v1/releases', { body: { manifest: m } });
      await t.call('POST', '/v1/deployments', { body: { release: 'support-agent@2.5.0', upstreams: ['http://127.0.0.1:9025'] } });
      for (let i = 0; seen.length < 2 && i < 100; i++) await new Promise((r) => setTimeout(r, 20));
      await w.stop();
      assert.equal(seen.length, 2, `got ${JSON.stringify(seen)}`);
      assert.ok(seen[1]! > seen[0]!);
    });

    it('refuses a bad plan or an unknown release and stores nothing', async () => {
      const count = async () => (await t.call('GET', '/v1/rollouts')).body.rollouts.length;
      const audit = async () => (await t.call('GET', '/v1/audit')).body.events.length;
      const [r0, a0] = [await count(), await audit()];
      const bad = await t.call('POST', '/v1/rollouts', { body: { plan: plan('support-agent@2.0.0', [{ weight: 50 }, { weight: 20 }]) } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /steps\[1\]\.weight/);
      const yaml = await t.call('POST', '/v1/rollouts', { body: { planYaml: 'agent: support-agent\ncandidate: support-agent@2.0.0\nsteps:\n  - weight: 150\n' } });
      assert.equal(yaml.status, 400);
      assert.match(yaml.body.error.details[0].where, /planYaml:4 steps\[0\]\.weight/);
      const unknown = await t.call('POST', '/v1/rollouts', { body: { plan: plan('support-agent@3.0.0') } });
      assert.equal(unknown.status, 404);
      assert.match(unknown.body.error.message, /support-agent@3\.0\.0/);
      assert.equal(await count(), r0);
      assert.equal(await audit(), a0);
    });

    let rolloutId = '';
    it('starts a rollout, refuses a second one naming the first, and advances time-based steps by itself', async () => {
      const r = await t.call('POST', '/v1/rollouts', { body: { plan: plan('support-agent@2.0.0') } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      rolloutId = r.body.id;
      assert.equal(r.body.status, 'progressing');
      assert.equal(r.body.state.weight, 10);

      const m3 = testManifest('support-agent', '3.0.0');
      await t.call('POST', '/v1/releases', { body: { manifest: m3 } });
      await t.call('POST', '/v1/deployments', { body: { release: 'support-agent@3.0.0', upstreams: ['http://127.0.0.1:9003'] } });
      const second = await t.call('POST', '/v1/rollouts', { body: { plan: plan('support-agent@3.0.0') } });
      assert.equal(second.status, 409);
      assert.match(second.body.error.message, new RegExp(`${rolloutId}.*ship one grouped change at a time`));

      const routing = await t.call('GET', '/v1/routing');
      assert.equal(routing.body.agents[0].rollout.id, rolloutId);
      assert.equal(routing.body.agents[0].rollout.weight, 10);
      assert.equal(routing.body.agents[0].rollout.candidate.release, 'support-agent@2.0.0');

      // Not due yet, then due a minute later.
      assert.equal(await t.plane.loop.tickOnce(new Date()), 0);
      assert.equal(await t.plane.loop.tickOnce(new Date(Date.now() + 61_000)), 1);
      const s = await t.call('GET', `/v1/rollouts/${rolloutId}`);
      assert.equal(s.body.state.weight, 50);
      assert.equal(s.body.state.stepIndex, 1);
    });

    it('pauses, resumes and promotes; the snapshot always equals the replayed log; promotion moves the stable release', async () => {
      const p = await t.call('POST', `/v1/rollouts/${rolloutId}/pause`, { body: { reason: 'look at the dashboards' } });
      assert.equal(p.status, 200, JSON.stringify(p.body));
      assert.equal(p.body.status, 'paused');
      const again = await t.call('POST', `/v1/rollouts/${rolloutId}/pause`, {});
      assert.equal(again.status, 409);
      assert.equal((await t.call('POST', `/v1/rollouts/${rolloutId}/resume`, {})).body.status, 'progressing');
      const promoted = await t.call('POST', `/v1/rollouts/${rolloutId}/promote`, { body: { reason: 'looks good' } });
      assert.equal(promoted.body.status, 'promoted');
      assert.equal(promoted.body.active, false);

      const { body } = await t.call('GET', `/v1/rollouts/${rolloutId}/events`);
      const events = (body.events as Array<{ seq: number; event: RolloutEvent }>).map((e) => e.event);
      assert.deepEqual(body.events.map((e: { seq: number }) => e.seq), events.map((_, i) => i + 1));
      assert.deepEqual(replay(events), promoted.body.state);

      const agents = await t.call('GET', '/v1/agents');
      assert.equal(agents.body.agents[0].stableDigest, promoted.body.candidateDigest);
      const routing = await t.call('GET', '/v1/routing');
      assert.equal(routing.body.agents[0].baseline.release, 'support-agent@2.0.0');
      assert.equal(routing.body.agents[0].rollout, undefined);
    });

    it('applies a command once per Idempotency-Key and refuses the key for a different request', async () => {
      const r = await t.call('POST', '/v1/rollouts', { body: { plan: plan('support-agent@3.0.0') } });
      assert.equal(r.status, 201);
      const id = r.body.id;
      const auditBefore = (await t.call('GET', '/v1/audit')).body.events.length;
      const headers = { 'idempotency-key': 'rb-1' };
      const first = await t.call('POST', `/v1/rollouts/${id}/rollback`, { body: { mode: 'hard' }, headers });
      const second = await t.call('POST', `/v1/rollouts/${id}/rollback`, { body: { mode: 'hard' }, headers });
      assert.equal(first.status, 200);
      assert.deepEqual(second.body, first.body);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal(first.body.events, (await t.call('GET', `/v1/rollouts/${id}`)).body.events, 'no new event');
      const auditAfter = (await t.call('GET', '/v1/audit')).body.events.length;
      assert.equal(auditAfter - auditBefore, first.body.events - r.body.events, 'one audit row per event, none for the replay');
      const other = await t.call('POST', `/v1/rollouts/${id}/abort`, { headers });
      assert.equal(other.status, 409);
      assert.match(other.body.error.message, /Idempotency-Key/);
    });

    it('ends a drain rollback only when every reporting gateway is at zero', async () => {
      const m35 = testManifest('support-agent', '3.5.0');
      await t.call('POST', '/v1/releases', { body: { manifest: m35 } });
      await t.call('POST', '/v1/deployments', { body: { release: 'support-agent@3.5.0', upstreams: ['http://127.0.0.1:9035'] } });
      const r = await t.call('POST', '/v1/rollouts', { body: { plan: plan('support-agent@3.5.0') } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const id = r.body.id;
      assert.equal((await t.call('POST', `/v1/rollouts/${id}/rollback`, { body: { mode: 'drain' } })).body.status, 'rolling-back');
      const report = (gateway: string, inFlight: number) => t.call('POST', `/v1/rollouts/${id}/drain-progress`, { body: { gateway, inFlight } });
      assert.equal((await report('edge-a', 3)).body.state.rollback.inFlight, 3);
      assert.equal((await report('edge-b', 2)).body.state.rollback.inFlight, 5, 'the rollout hears the sum over gateways');
      assert.equal((await report('edge-a', 0)).body.state.rollback.inFlight, 2);
      await t.plane.loop.tickOnce(new Date());
      assert.equal((await t.call('GET', `/v1/rollouts/${id}`)).body.status, 'rolling-back', 'edge-b still serves draining sessions');
      assert.equal((await report('edge-b', 0)).body.state.rollback.inFlight, 0);
      await t.plane.loop.tickOnce(new Date());
      assert.equal((await t.call('GET', `/v1/rollouts/${id}`)).body.status, 'rolled-back');
    });

    it('refuses to deploy or roll out a release that fails the signature policy, naming why, and stores nothing', async () => {
      const strict = t.withPolicy({ requireSignature: true, trustedKeys: [testKey.publicKeyPem] });
      const unsigned = testManifest('support-agent', '4.0.0');
      const reg = await strict('POST', '/v1/releases', { body: { manifest: unsigned } });
      assert.equal(reg.status, 201);
      assert.equal(reg.body.verification.ok, false);
      assert.match(reg.body.verification.reason, /not signed/);
      const deploysBefore = (await t.call('GET', '/v1/deployments')).body.deployments.length;
      const dep = await strict('POST', '/v1/deployments', { body: { release: 'support-agent@4.0.0', upstreams: ['http://127.0.0.1:9004'] } });
      assert.equal(dep.status, 422);
      assert.equal(dep.body.error.kind, 'failed');
      assert.match(dep.body.error.message, /fails the signature policy: .*not signed/);
      assert.equal((await t.call('GET', '/v1/deployments')).body.deployments.length, deploysBefore);
      // Deployed while the policy was open, still refused for a rollout under the strict one.
      await t.call('POST', '/v1/deployments', { body: { release: 'support-agent@4.0.0', upstreams: ['http://127.0.0.1:9004'] } });
      const rollouts = (await t.call('GET', '/v1/rollouts')).body.rollouts.length;
      const ro = await strict('POST', '/v1/rollouts', { body: { plan: plan('support-agent@4.0.0') } });
      assert.equal(ro.status, 422);
      assert.match(ro.body.error.message, /signature policy/);
      assert.equal((await t.call('GET', '/v1/rollouts')).body.rollouts.length, rollouts);

      const signed = testManifest('support-agent', '5.0.0');
      const ok = await strict('POST', '/v1/releases', { body: { manifest: signed, envelopes: [signManifest(signed)] } });
      assert.equal(ok.body.verification.ok, true);
      assert.equal(ok.body.verification.keyid, testKey.keyid);
      const forged = testManifest('support-agent', '6.0.0');
      const other = signManifest(forged, (await import('@sluice/core')).generateSigningKey().privateKeyPem);
      const untrusted = await strict('POST', '/v1/releases', { body: { manifest: forged, envelopes: [other] } });
      assert.equal(untrusted.body.verification.ok, false);
      assert.match(untrusted.body.verification.reason, /not a trusted key/);
    });

    it('chains the audit log and names an edited and a deleted row', async () => {
      const ok = await t.call('GET', '/v1/audit/verify');
      assert.equal(ok.body.ok, true, JSON.stringify(ok.body.problems));
      assert.ok(ok.body.rows > 10);
      await t.plane.db.query(`UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 3`);
      await t.plane.db.query('DELETE FROM audit_log WHERE seq = 5');
      const bad = await t.call('GET', '/v1/audit/verify');
      assert.equal(bad.body.ok, false);
      assert.deepEqual(
        bad.body.problems.map((p: { seq: number; problem: string }) => `${p.seq}:${p.problem}`),
        ['3:edited', '5:deleted'],
      );
      assert.match(bad.body.problems[1].message, /row 5 deleted/);
    });

    it('exposes Prometheus metrics: requests by route and status, rollouts by state, store latency', async () => {
      const { status, body } = await t.call('GET', '/metrics', { token: null });
      assert.equal(status, 200);
      assert.match(body, /sluice_http_requests_total\{method="POST",route="\/v1\/releases",status="201"\} \d+/);
      assert.match(body, /sluice_rollouts\{state="promoted"\} 1/);
      assert.match(body, /sluice_store_query_duration_seconds_count \d+/);
      assert.equal((await t.call('GET', '/readyz', { token: null })).status, 200);
      assert.equal((await t.call('GET', '/healthz', { token: null })).status, 200);
    });
  });
}
