import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentRoute, config, inParallel, release, startGateway, startUpstream } from './testing.js';

/**
 * Binomial bound used below: |share − p| ≤ 4·sqrt(p(1−p)/n). A correct gateway fails it by
 * chance about once in 16,000 runs; a gateway that ignored the weight by even a few points
 * fails it every time at these sample sizes.
 */
const bound = (p: number, n: number) => 4 * Math.sqrt((p * (1 - p)) / n);

test('affinity holds for 10,000 sessions while the weight moves 5 → 25 → 50, and new sessions follow the weight', async () => {
  const base = await startUpstream('base', undefined, { record: false });
  const cand = await startUpstream('cand', undefined, { record: false });
  const B = release('support-agent@1.0.0', [base.url]);
  const C = release('support-agent@1.1.0', [cand.url]);
  const at = (epoch: number, weight: number) => config(epoch, [agentRoute(B, { id: 'ro-affinity', strategy: 'canary', unit: 'session', weight, candidate: C })]);
  const { gw, source, client } = await startGateway(at(1, 5));
  let candAnswers = 0;
  try {
    const served = (session: string) =>
      client.request({ path: '/chat', method: 'GET', headers: { 'sluice-session': session } }).then(async (r) => {
        assert.equal(r.statusCode, 200);
        const who = ((await r.body.json()) as { served: string }).served;
        if (who === 'cand') candAnswers++;
        return who;
      });
    const share = (xs: string[]) => xs.filter((x) => x === 'cand').length / xs.length;

    const first = Array.from({ length: 10_000 }, (_, i) => `first-${i}`);
    const seen = new Map<string, string>();
    const w5 = await inParallel(first, 64, served);
    first.forEach((s, i) => seen.set(s, w5[i] as string));
    assert.ok(Math.abs(share(w5) - 0.05) <= bound(0.05, 10_000), `share at 5%: ${share(w5)}`);

    let switches = 0;
    let total = 0;
    for (const [epoch, weight] of [
      [2, 25],
      [3, 50],
    ] as const) {
      source.push(at(epoch, weight));
      const again = await inParallel([...seen.keys()], 64, served);
      [...seen.keys()].forEach((s, i) => {
        total++;
        if (again[i] !== seen.get(s)) switches++;
      });
      const fresh = Array.from({ length: 2_000 }, (_, i) => `w${weight}-${i}`);
      const got = await inParallel(fresh, 64, served);
      const p = weight / 100;
      assert.ok(Math.abs(share(got) - p) <= bound(p, fresh.length), `share of new sessions at ${weight}%: ${share(got)} (±${bound(p, fresh.length).toFixed(4)})`);
      fresh.forEach((s, i) => seen.set(s, got[i] as string));
    }
    assert.equal(switches, 0, `${switches} of ${total} returning sessions changed release`);
    assert.equal(total, 10_000 + 12_000);
    const m = gw.measurements.drain().requests;
    // One measurement per request: 10,000, then 10,000 + 2,000, then 12,000 + 2,000.
    assert.equal(m.length, 10_000 + 12_000 + 14_000);
    assert.equal(m.filter((x) => x.cohort === 'canary').length, candAnswers, 'measured cohorts match what the clients were served');
  } finally {
    await client.close();
    await gw.stop();
    await base.close();
    await cand.close();
  }
});

test('unit user pins by sluice-user across sessions; unit request splits each request by the weight', async () => {
  const base = await startUpstream('base', undefined, { record: false });
  const cand = await startUpstream('cand', undefined, { record: false });
  const B = release('a@1', [base.url]);
  const C = release('a@2', [cand.url]);
  const { gw, source, client } = await startGateway(config(1, [agentRoute(B, { id: 'ro-user', strategy: 'canary', unit: 'user', weight: 50, candidate: C })]));
  try {
    const served = (headers: Record<string, string>) => client.request({ path: '/', method: 'GET', headers }).then(async (r) => ((await r.body.json()) as { served: string }).served);
    for (let u = 0; u < 50; u++) {
      const answers = new Set(await Promise.all(Array.from({ length: 6 }, (_, s) => served({ 'sluice-user': `user-${u}`, 'sluice-session': `sess-${u}-${s}` }))));
      assert.equal(answers.size, 1, `user-${u} saw both releases`);
    }
    source.push(config(2, [agentRoute(B, { id: 'ro-req', strategy: 'canary', unit: 'request', weight: 30, candidate: C })]));
    const n = 3_000;
    const got = await inParallel(Array.from({ length: n }, () => ({ 'sluice-session': 'one-session' })), 32, served);
    const s = got.filter((x) => x === 'cand').length / n;
    assert.ok(Math.abs(s - 0.3) <= bound(0.3, n), `per-request share ${s}`);
  } finally {
    await client.close();
    await gw.stop();
    await base.close();
    await cand.close();
  }
});
