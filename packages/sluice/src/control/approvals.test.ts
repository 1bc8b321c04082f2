import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApprovalDeniedError, guard, HttpApprovals, parseConstraints } from '@sluice/sdk';
import { BACKENDS } from '../adapters/store/testing.js';
import { startTestControl, type TestControl } from './testing.js';

for (const backend of BACKENDS) {
  describe(`approvals on ${backend}`, () => {
    let t: TestControl;
    const token = {} as Record<'agent' | 'agentAsApprover' | 'alice', string>;
    before(async () => {
      t = await startTestControl(backend);
      await t.plane.http.start();
      const make = async (subject: string, role: string) => (await t.call('POST', '/v1/tokens', { body: { subject, role } })).body.token as string;
      token.agent = await make('support-agent', 'operator');
      token.agentAsApprover = await make('support-agent', 'approver');
      token.alice = await make('alice', 'approver');
    });
    after(async () => {
      await t?.plane.http.stop();
      await t?.dispose();
    });

    it('records a request, refuses the requester as decider, lets another approver decide once', async () => {
      const req = await t.call('POST', '/v1/approvals', { token: token.agent, body: { action: 'issue_refund', risk: 'high', external: true, session: 's-1', reason: 'refund $250' } });
      assert.equal(req.status, 201);
      assert.equal(req.body.status, 'pending');
      assert.equal(req.body.requestedBy, 'support-agent');
      const id = req.body.id as string;

      const own = await t.call('POST', `/v1/approvals/${id}/approve`, { token: token.agentAsApprover, body: {} });
      assert.equal(own.status, 403);
      assert.match(own.body.error.message, /four eyes/);
      assert.equal((await t.call('GET', `/v1/approvals/${id}`, { token: token.agent })).body.status, 'pending', 'a refused decision changes nothing');

      const ok = await t.call('POST', `/v1/approvals/${id}/approve`, { token: token.alice, body: { reason: 'customer verified' } });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.status, 'approved');
      assert.equal(ok.body.decidedBy, 'alice');
      const again = await t.call('POST', `/v1/approvals/${id}/deny`, { token: token.alice, body: {} });
      assert.equal(again.status, 409);

      const audit = (await t.call('GET', '/v1/audit')).body.events as Array<{ action: string; actor: string; target: string }>;
      const mine = audit.filter((e) => e.target === `approval/${id}`).map((e) => `${e.actor} ${e.action}`);
      assert.deepEqual(mine, ['support-agent approval.requested', 'alice approval.approved']);
    });

    it('rejects a malformed request naming the field, and an unknown id with 404', async () => {
      const bad = await t.call('POST', '/v1/approvals', { token: token.agent, body: { action: 'x', risk: 'extreme', external: true } });
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.body.error), /risk/);
      assert.equal((await t.call('GET', '/v1/approvals/apr_nope', { token: token.agent })).status, 404);
    });

    it('the SDK guard waits on the real API: resolves when a person approves, throws when one denies', async () => {
      const approvals = new HttpApprovals(t.plane.http.url(), token.agent);
      const ctx = { constraints: parseConstraints('high-risk=approve'), release: 'support-agent@2.3.1' };
      const decideFirstPending = async (verb: 'approve' | 'deny') => {
        for (let i = 0; i < 200; i++) {
          const pending = (await t.call('GET', '/v1/approvals?status=pending', { token: token.alice })).body.approvals as Array<{ id: string; action: string }>;
          const mine = pending.find((a) => a.action === 'issue_refund' || a.action === 'close_account');
          if (mine) return t.call('POST', `/v1/approvals/${mine.id}/${verb}`, { token: token.alice, body: {} });
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error('no pending approval appeared');
      };

      const waiting = guard(ctx, 'issue_refund', { risk: 'high', external: true }, { approvals, pollMs: 20, timeoutMs: 10_000, session: 's-2' });
      assert.equal((await decideFirstPending('approve')).status, 200);
      const result = await waiting;
      assert.equal(result.allowed, true);
      assert.equal((await t.call('GET', `/v1/approvals/${result.approvalId}`, { token: token.agent })).body.session, 's-2');

      const refused = guard(ctx, 'close_account', { risk: 'high', external: false }, { approvals, pollMs: 20, timeoutMs: 10_000 });
      assert.equal((await decideFirstPending('deny')).status, 200);
      await assert.rejects(refused, ApprovalDeniedError);
    });
  });
}

describe('sluice approval (CLI)', () => {
  it('lists the backlog and decides, with the exit codes of a refusal', async () => {
    const { runCli } = await import('../testing/cli.js');
    const t = await startTestControl('pglite');
    await t.plane.http.start();
    try {
      const make = async (subject: string, role: string) => (await t.call('POST', '/v1/tokens', { body: { subject, role } })).body.token as string;
      const agent = await make('support-agent', 'operator');
      const bob = await make('bob', 'approver');
      const req = await t.call('POST', '/v1/approvals', { token: agent, body: { action: 'issue_refund', risk: 'high', external: true, reason: 'refund $250' } });
      const cli = (tok: string, ...args: string[]) => runCli(['--server', t.plane.http.url(), '--token', tok, ...args]);

      const list = await cli(bob, 'approval', 'list');
      assert.equal(list.code, 0);
      assert.match(list.stdout, new RegExp(`${req.body.id}\\s+pending\\s+issue_refund \\(high, external\\)\\s+asked by support-agent`));
      assert.equal((await cli(agent, 'approval', 'approve', req.body.id)).code, 4, 'an operator may not decide');
      const ok = await cli(bob, 'approval', 'deny', req.body.id, '--reason', 'over the limit', '--json');
      assert.equal(ok.code, 0);
      assert.equal(ok.json<{ status: string }>().status, 'denied');
      assert.equal((await cli(bob, 'approval', 'approve', req.body.id)).code, 1, 'already decided');
      assert.match((await cli(bob, 'approval', 'list')).stdout, /no pending approvals/);
      assert.equal((await cli(bob, 'approval', 'approve', 'apr_nope')).code, 3);
    } finally {
      await t.plane.http.stop();
      await t.dispose();
    }
  });
});
