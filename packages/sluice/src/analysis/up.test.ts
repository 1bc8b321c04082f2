import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GATEWAY_ATTACHMENTS } from '../gateway/up.js';
import { runUp } from '../server/up.js';

test('sluice up serves ingest, the analysis API and telemetry metrics, and keeps prices in the data directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-analysis-up-'));
  const attachments = GATEWAY_ATTACHMENTS.length;
  const up = await runUp({ port: 0, gatewayPort: 0, host: '127.0.0.1', dataDir: join(dir, 'data'), trustedKeys: [], tickMs: 200 });
  try {
    const api = up.urls.api!;
    const admin = { authorization: `Bearer ${up.adminToken!.token}` };
    assert.equal(GATEWAY_ATTACHMENTS.length, attachments + 1, 'the gateway feeds its measurements to the aggregator');

    const anonymous = await fetch(`${api}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(anonymous.status, 401);
    const ok = await fetch(`${api}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...admin }, body: '{"resourceSpans": []}' });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), {});

    const missing = await fetch(`${api}/v1/rollouts/ro_nope/analysis`, { headers: admin });
    assert.equal(missing.status, 404);

    const put = await fetch(`${api}/v1/prices/acme-small`, { method: 'PUT', headers: { 'content-type': 'application/json', ...admin }, body: JSON.stringify({ input: 0.5, output: 1.5 }) });
    assert.equal(put.status, 200);
    const file = join(dir, 'data', 'prices.json');
    assert.ok(existsSync(file));
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8'))['acme-small'], { input: 0.5, output: 1.5 });
    const badPrice = await fetch(`${api}/v1/prices/acme-small`, { method: 'PUT', headers: { 'content-type': 'application/json', ...admin }, body: JSON.stringify({ input: -1, output: 1 }) });
    assert.equal(badPrice.status, 400);

    const metrics = await (await fetch(`${api}/metrics`)).text();
    assert.match(metrics, /sluice_telemetry_refused_requests_total\{reason="auth"\} 1/);
    assert.match(metrics, /sluice_telemetry_queue_depth 0/);

    const doc = (await (await fetch(`${api}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const p of ['/v1/traces', '/v1/events', '/v1/rollouts/{id}/analysis', '/v1/prices']) assert.ok(doc.paths[p], `${p} is documented`);
  } finally {
    await up.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(GATEWAY_ATTACHMENTS.length, attachments, 'stopping detaches');
});
