import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { request } from 'undici';
import { runCli } from '../../testing/cli.js';
import { agentRoute, config, release, startUpstream } from '../../gateway/testing.js';

test('sluice gateway without a config source is a usage error naming the option', async () => {
  const r = await runCli(['gateway', '--json'], { SLUICE_SERVER: undefined });
  assert.equal(r.code, 2);
  const body = r.json<{ error: { details: Array<{ where: string }> } }>();
  assert.equal(body.error.details[0]?.where, '--control');
});

test('sluice gateway --config serves a routing file until SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-gw-cli-'));
  const up = await startUpstream('up');
  const file = join(dir, 'routing.json');
  writeFileSync(file, JSON.stringify(config(7, [agentRoute(release('a@1', [up.url]))])));
  try {
    const [port, adminPort] = [await freePort(), await freePort()];
    const run = runCli(['gateway', '--json', '--config', file, '--port', String(port), '--admin-port', String(adminPort)], { SLUICE_SERVER: undefined });
    const ready = { url: `http://127.0.0.1:${port}`, admin: `http://127.0.0.1:${adminPort}` };
    let up200 = false;
    for (let i = 0; i < 100 && !up200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      up200 = await request(`${ready.admin}/readyz`).then(
        async (r) => (await r.body.dump(), r.statusCode === 200),
        () => false,
      );
    }
    assert.ok(up200, 'the gateway became ready');
    const res = await request(`${ready.url}/any`, { headers: { 'sluice-session': 's' } });
    assert.deepEqual(await res.body.json(), { served: 'up' });
    const st = (await (await request(`${ready.admin}/readyz`)).body.json()) as { ready: boolean; epoch: number };
    assert.deepEqual([st.ready, st.epoch], [true, 7]);
    process.emit('SIGTERM');
    const r = await run;
    assert.equal(r.code, 0);
    assert.match(r.stdout, /"status": ?"running"/);
  } finally {
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
