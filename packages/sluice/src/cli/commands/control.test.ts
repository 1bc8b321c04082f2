import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { releaseDigest } from '@sluice/core';
import { signManifest, startTestControl, testManifest, type TestControl } from '../../control/testing.js';
import { ReleaseStore } from '../../release/store.js';
import { runCli } from '../../testing/cli.js';
import { BACKENDS } from '../../adapters/store/testing.js';

/** The control CLI end to end against a real HTTP server: every command, its output and exit code. */
for (const backend of BACKENDS) describe(`control CLI on ${backend}`, () => {
  let t: TestControl;
  let dir: string;
  let base: string[];
  before(async () => {
    t = await startTestControl(backend, { tickMs: 100 });
    await t.plane.http.start();
    await t.plane.loop.start();
    dir = mkdtempSync(join(tmpdir(), `sluice-cli-${backend}-`));
    const store = ReleaseStore.open(join(dir, 'store'));
    for (const v of ['1.0.0', '2.0.0']) {
      const m = testManifest('support-agent', v, v === '1.0.0' ? 0.2 : 0.4);
      await store.putRelease(m);
      await store.putSignature(releaseDigest(m), signManifest(m));
    }
    base = ['--server', t.plane.http.url(), '--token', t.adminToken, '--store', join(dir, 'store')];
  });
  after(async () => {
    await t?.plane.http.stop();
    await t?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers releases from the local store with their signatures', async () => {
    const r = await runCli([...base, 'release', 'register', 'support-agent@1.0.0', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const body = r.json<{ ref: string; envelopes: unknown[] }>();
    assert.equal(body.ref, 'support-agent@1.0.0');
    assert.equal(body.envelopes.length, 1);
    const text = await runCli([...base, 'release', 'register', 'support-agent@2.0.0']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /registered support-agent@2\.0\.0 sha256:/);
    assert.equal((await runCli([...base, 'release', 'register', 'support-agent@9.9.9'])).code, 3);
  });

  it('adds and lists deployments, with clear errors for bad input', async () => {
    const a = await runCli([...base, 'deploy', 'add', 'support-agent@1.0.0', '--upstream', 'http://127.0.0.1:9001', '--match-path-prefix', '/support']);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /deployed dep_\w+ {2}support-agent@1\.0\.0 {2}http:\/\/127\.0\.0\.1:9001 {2}\(path \/support\*\)/);
    assert.equal((await runCli([...base, 'deploy', 'add', 'support-agent@2.0.0', '--upstream', 'http://127.0.0.1:9002', '--upstream', 'http://127.0.0.1:9012'])).code, 0);
    const list = await runCli([...base, 'deploy', 'list', '--json']);
    assert.deepEqual(list.json<Array<{ release: string }>>().map((d) => d.release), ['support-agent@1.0.0', 'support-agent@2.0.0']);
    const two = await runCli([...base, 'deploy', 'add', 'support-agent@1.0.0', '--upstream', 'http://x', '--match-host', 'a', '--match-header', 'x=y']);
    assert.equal(two.code, 2);
    assert.match(two.stderr, /one of --match-host/);
    assert.equal((await runCli([...base, 'deploy', 'add', 'support-agent@7.0.0', '--upstream', 'http://x'])).code, 3);
  });

  it('refuses an invalid plan file naming the file, line and field, before calling the server', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'agent: support-agent\ncandidate: support-agent@2.0.0\nsteps:\n  - weight: 10\n  - weight: 5\n');
    const r = await runCli([...base, 'rollout', 'start', '-f', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:5 steps\\[1\\]\\.weight`));
    assert.equal((await runCli([...base, 'rollout', 'list', '--json'])).json<unknown[]>().length, 0, 'nothing stored');
  });

  it('starts a rollout and watches it to promotion as NDJSON', async () => {
    const file = join(dir, 'plan.yaml');
    writeFileSync(file, 'agent: support-agent\ncandidate: support-agent@2.0.0\nsteps:\n  - weight: 25\n    hold: 1s\n  - weight: 100\n');
    const s = await runCli([...base, 'rollout', 'start', '-f', file, '--reason', 'new prompt']);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /support-agent: support-agent@1\.0\.0 → support-agent@2\.0\.0/);
    assert.match(s.stdout, /canary weight 25%/);
    const again = await runCli([...base, 'rollout', 'start', '-f', file]);
    assert.equal(again.code, 1, 'a second active rollout is a conflict');
    assert.match(again.stderr, /ship one grouped change at a time/);

    const w = await runCli([...base, 'rollout', 'watch', 'support-agent', '--json']);
    assert.equal(w.code, 0, w.stderr);
    const lines = w.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status: string; event?: { type: string } });
    assert.deepEqual(lines.map((l) => l.event?.type ?? l.type), ['created', 'started', 'step-advanced', 'step-advanced', 'promoted', 'end']);
    assert.equal(lines.at(-1)?.status, 'promoted');
    const status = await runCli([...base, 'rollout', 'status', 'support-agent']);
    assert.match(status.stdout, /status {3}promoted/);
  });

  it('prints the changelog and verifies the audit chain (exit 1 once tampered)', async () => {
    const log = await runCli([...base, 'log', '--agent', 'support-agent', '--since', '1h']);
    assert.equal(log.code, 0, log.stderr);
    assert.match(log.stdout, /rollout\.created .*rollout\/ro_\w+ → pending.*new prompt/);
    assert.match(log.stdout, /sluice +rollout\.step-advanced +rollout\/ro_\w+ → progressing 100%/);
    const logJson = await runCli([...base, 'log', '--json']);
    assert.ok(logJson.json<unknown[]>().length >= 8);
    assert.equal((await runCli([...base, 'log', '--since', 'yesterday-ish'])).code, 2);

    const ok = await runCli([...base, 'audit', 'verify']);
    assert.equal(ok.code, 0);
    assert.match(ok.stdout, /audit log intact/);
    await t.plane.db.query(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`);
    const bad = await runCli([...base, 'audit', 'verify']);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /row 2 edited/);
  });

  it('creates, lists and revokes tokens; roles and revocation are enforced with exit code 4', async () => {
    const c = await runCli([...base, 'token', 'create', '--role', 'viewer', '--subject', 'dashboards', '--json']);
    assert.equal(c.code, 0, c.stderr);
    const { token, info } = c.json<{ token: string; info: { id: string } }>();
    const viewer = ['--server', t.plane.http.url(), '--token', token];
    assert.equal((await runCli([...viewer, 'deploy', 'list'])).code, 0);
    const denied = await runCli([...viewer, 'token', 'list']);
    assert.equal(denied.code, 4);
    assert.match(denied.stderr, /needs the admin role/);
    const list = await runCli([...base, 'token', 'list']);
    assert.match(list.stdout, new RegExp(`${info.id} {2}viewer {4}dashboards`));
    assert.equal((await runCli([...base, 'token', 'revoke', info.id, '--reason', 'rotated'])).code, 0);
    const gone = await runCli([...viewer, 'deploy', 'list']);
    assert.equal(gone.code, 4);
    assert.match(gone.stderr, /revoked/);
    assert.equal((await runCli([...base, 'token', 'create', '--role', 'root', '--subject', 'x'])).code, 2);
  });

  it('says clearly when the server is not there', async () => {
    const r = await runCli(['--server', 'http://127.0.0.1:1', '--token', 'x', 'deploy', 'list'], { SLUICE_RETRY_MS: '300' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach the control API at http:\/\/127\.0\.0\.1:1/);
  });
});
