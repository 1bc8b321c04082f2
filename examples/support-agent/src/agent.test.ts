import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { createAgent, customerMessage, loadRelease, mulberry32, RELEASES_DIR, startModelServer } from './index.js';

type Agent = ReturnType<typeof createAgent>;

async function send(url: string, session: string, message: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'sluice-session': session, ...headers },
    body: JSON.stringify({ message }),
  });
  return { status: res.status, outcome: res.headers.get('sluice-outcome'), boundary: res.headers.get('sluice-boundary'), body: (await res.json()) as { outcome: string; tools: string[]; release: string; usage: { total_tokens: number } } };
}

describe('example support agent', () => {
  let model: Awaited<ReturnType<typeof startModelServer>>;
  const agents: Record<string, { agent: Agent; url: string }> = {};

  before(async () => {
    model = await startModelServer();
    for (const v of ['2.3.0', '2.3.1']) {
      const agent = createAgent({ release: await loadRelease(join(RELEASES_DIR, v)), modelUrl: model.url });
      agents[v] = { agent, url: await agent.listen() };
    }
  });
  after(async () => {
    for (const a of Object.values(agents)) await a.agent.close();
    model.server.close();
  });

  it('resolves an order question with a tool call and reports the outcome to the gateway', async () => {
    const r = await send(agents['2.3.0']!.url, 's-1', 'Where is my order #1234?');
    assert.equal(r.status, 200);
    assert.equal(r.outcome, 'resolved');
    assert.equal(r.boundary, 'safe');
    assert.deepEqual(r.body.tools, ['lookup_order']);
    assert.equal(r.body.release, 'support-agent@2.3.0');
    assert.ok(r.body.usage.total_tokens > 0);
  });

  it('the candidate prompt escalates refunds the stable one resolves', async () => {
    const stable = await send(agents['2.3.0']!.url, 's-2', 'Can I get a refund for order #1001?');
    const candidate = await send(agents['2.3.1']!.url, 's-2', 'Can I get a refund for order #1001?');
    assert.equal(stable.outcome, 'resolved');
    assert.deepEqual(stable.body.tools, ['lookup_order', 'issue_refund']);
    assert.equal(candidate.outcome, 'escalated');
    assert.ok(candidate.body.tools.includes('escalate_to_human'));
  });

  it('honours external-actions=off: the refund is refused and the case escalated', async () => {
    const r = await send(agents['2.3.0']!.url, 's-3', 'Can I get a refund for order #1001?', { 'sluice-constraints': 'external-actions=off' });
    assert.equal(r.outcome, 'escalated');
    assert.deepEqual(r.body.tools, ['lookup_order', 'issue_refund', 'escalate_to_human']);
  });

  it('keeps session memory per release namespace', async () => {
    await send(agents['2.3.0']!.url, 's-4', 'Where is my order #2222?', { 'sluice-memory-namespace': 'support-agent/m1' });
    assert.equal(agents['2.3.0']!.agent.memory.get('support-agent/m1:session:s-4')?.lastOrderId, '2222');
  });

  it('escalates about 8% of sessions on 2.3.0 and about 22% on 2.3.1', async () => {
    const rates: Record<string, number> = {};
    for (const v of ['2.3.0', '2.3.1']) {
      const rand = mulberry32(7);
      let escalated = 0;
      const n = 600;
      for (let i = 0; i < n; i++) if ((await send(agents[v]!.url, `load-${i}`, customerMessage(rand))).outcome === 'escalated') escalated++;
      rates[v] = escalated / n;
    }
    // Same messages to both: the difference is the prompt alone. Bounds are ~4 standard errors.
    assert.ok(Math.abs(rates['2.3.0']! - 0.08) < 0.045, `2.3.0 escalation rate ${rates['2.3.0']}`);
    assert.ok(Math.abs(rates['2.3.1']! - 0.22) < 0.07, `2.3.1 escalation rate ${rates['2.3.1']}`);
    assert.ok(rates['2.3.1']! > rates['2.3.0']! + 0.08);
  });
});
