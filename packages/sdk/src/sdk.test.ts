import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { describe, it, beforeEach } from 'node:test';
import { context, propagation, trace } from '@opentelemetry/api';
import fc from 'fast-check';
import { installTracing } from './otel.test-setup.js';
import {
  ApprovalDeniedError,
  ApprovalTimeoutError,
  ConstraintError,
  MemoryApprovals,
  HttpApprovals,
  chat,
  checkDrift,
  executeTool,
  feedback,
  guard,
  invokeAgent,
  memoryKey,
  outcome,
  parseConstraints,
  sluiceContext,
  withSluiceContext,
} from './index.js';

const exporter = installTracing();
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const gatewayHeaders = {
  'sluice-release': 'support-agent@2.3.1',
  'sluice-release-digest': 'sha256:' + 'ab'.repeat(32),
  'sluice-cohort': 'canary',
  'sluice-rollout': 'ro-1',
  'sluice-memory-namespace': 'support-agent/m2',
  'sluice-constraints': 'external-actions=off, high-risk=approve',
  traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
  baggage: 'sluice.release=support-agent%402.3.1,sluice.cohort=canary,tenant=acme;prop=1',
};

describe('sluiceContext', () => {
  it('reads every gateway header from a plain record, a Headers object and a real request', async () => {
    const fromRecord = sluiceContext(gatewayHeaders);
    assert.equal(fromRecord.release, 'support-agent@2.3.1');
    assert.equal(fromRecord.cohort, 'canary');
    assert.equal(fromRecord.memoryNamespace, 'support-agent/m2');
    assert.equal(fromRecord.constraints.externalActions, 'off');
    assert.equal(fromRecord.constraints.highRisk, 'approve');
    assert.equal(fromRecord.parent?.traceId, TRACE_ID);
    assert.equal(fromRecord.baggage['sluice.release'], 'support-agent@2.3.1');
    assert.equal(fromRecord.baggage.tenant, 'acme');
    assert.deepEqual(sluiceContext(new Headers(gatewayHeaders)), fromRecord);

    let seen: ReturnType<typeof sluiceContext> | undefined;
    const server = createServer((req: IncomingMessage, res) => {
      seen = sluiceContext(req);
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await fetch(`http://127.0.0.1:${port}/`, { headers: gatewayHeaders });
    server.close();
    assert.deepEqual(seen, fromRecord);
  });

  it('ignores an invalid traceparent and an unknown cohort', () => {
    const ctx = sluiceContext({ traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, 'sluice-cohort': 'admin' });
    assert.equal(ctx.parent, undefined);
    assert.equal(ctx.cohort, undefined);
    assert.equal(ctx.release, undefined);
  });
});

describe('spans', () => {
  beforeEach(() => exporter.reset());

  it('create GenAI-convention spans that join the gateway trace and carry the cohort', async () => {
    const ctx = sluiceContext(gatewayHeaders);
    await withSluiceContext(ctx, () =>
      invokeAgent('support-agent', { sluice: ctx, session: 's-1' }, async () => {
        await chat('gpt-5-mini', { session: 's-1', provider: 'openai' }, async () => ({ usage: { prompt_tokens: 120, completion_tokens: 30 } }));
        await executeTool('lookup_order', { session: 's-1' }, async () => ({ id: 42 }));
        await assert.rejects(executeTool('issue_refund', { session: 's-1' }, async () => {
          throw new RangeError('amount too large');
        }));
        outcome('s-1', 'escalated');
        feedback(2, 's-1');
      }),
    );
    const spans = exporter.getFinishedSpans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    const agent = byName.get('invoke_agent support-agent');
    assert.ok(agent, `spans: ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(agent.spanContext().traceId, TRACE_ID, 'joins the trace from traceparent');
    assert.equal(agent.attributes['gen_ai.operation.name'], 'invoke_agent');
    assert.equal(agent.attributes['gen_ai.agent.version'], '2.3.1');
    assert.equal(agent.attributes['sluice.cohort'], 'canary');
    assert.equal(agent.attributes['sluice.outcome'], 'escalated');
    assert.equal(agent.attributes['sluice.feedback.score'], 2);
    const chatSpan = byName.get('chat gpt-5-mini');
    assert.equal(chatSpan?.attributes['gen_ai.usage.input_tokens'], 120);
    assert.equal(chatSpan?.attributes['gen_ai.usage.output_tokens'], 30);
    assert.equal(chatSpan?.attributes['sluice.release'], 'support-agent@2.3.1', 'cohort travels by baggage to nested spans');
    const tool = byName.get('execute_tool lookup_order');
    assert.equal(tool?.attributes['gen_ai.tool.name'], 'lookup_order');
    assert.equal(tool?.attributes['gen_ai.conversation.id'], 's-1');
    assert.equal(tool?.attributes['error.type'], undefined);
    assert.equal(byName.get('execute_tool issue_refund')?.attributes['error.type'], 'RangeError');
    for (const s of spans) assert.equal(s.spanContext().traceId, TRACE_ID);
  });

  it('puts sluice.release and sluice.cohort into baggage for child calls', () => {
    const ctx = sluiceContext(gatewayHeaders);
    withSluiceContext(ctx, () => {
      const bag = propagation.getBaggage(context.active());
      assert.equal(bag?.getEntry('sluice.cohort')?.value, 'canary');
      assert.equal(trace.getSpanContext(context.active())?.traceId, TRACE_ID);
    });
  });
});

describe('constraints and guard', () => {
  const ctxWith = (header: string) => ({ constraints: parseConstraints(header), release: 'a@1' });

  it('refuses external actions when external-actions=off, lets internal ones run', async () => {
    const ctx = ctxWith('external-actions=off');
    await assert.rejects(guard(ctx, 'issue_refund', { risk: 'low', external: true }), (e: unknown) => e instanceof ConstraintError && e.constraint === 'external-actions=off');
    assert.deepEqual(await guard(ctx, 'lookup_order', { risk: 'low', external: false }), { allowed: true });
  });

  it('denies high-risk actions under high-risk=deny, and allows them with no constraints', async () => {
    await assert.rejects(guard(ctxWith('high-risk=deny'), 'refund', { risk: 'high', external: false }), /high-risk=deny/);
    assert.deepEqual(await guard(ctxWith(''), 'refund', { risk: 'high', external: true }), { allowed: true });
  });

  it('waits for an approval under high-risk=approve, and honours a denial', async () => {
    const approvals = new MemoryApprovals();
    const ctx = ctxWith('high-risk=approve');
    const waiting = guard(ctx, 'refund', { risk: 'high', external: false }, { approvals, pollMs: 5, timeoutMs: 2000, session: 's-9' });
    await new Promise((r) => setTimeout(r, 20));
    const [pending] = approvals.pending();
    assert.equal(pending?.req.session, 's-9');
    approvals.decide(pending!.id, 'approved');
    assert.deepEqual(await waiting, { allowed: true, approvalId: pending!.id });

    const denied = guard(ctx, 'refund', { risk: 'high', external: false }, { approvals, pollMs: 5, timeoutMs: 2000 });
    await new Promise((r) => setTimeout(r, 20));
    approvals.decide(approvals.pending()[0]!.id, 'denied');
    await assert.rejects(denied, ApprovalDeniedError);
  });

  it('times out cleanly when nobody answers', async () => {
    const started = Date.now();
    await assert.rejects(
      guard(ctxWith('high-risk=approve'), 'refund', { risk: 'high', external: false }, { approvals: new MemoryApprovals(), pollMs: 10, timeoutMs: 120 }),
      (e: unknown) => e instanceof ApprovalTimeoutError && e.waitedMs >= 120,
    );
    const took = Date.now() - started;
    assert.ok(took >= 120 && took < 1000, `timed out after ${took} ms`);
  });

  it('talks to the control API over HTTP for approvals', async () => {
    const seen: string[] = [];
    let polls = 0;
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') return res.end(JSON.stringify({ id: 'apr-7', status: 'pending' }));
      polls++;
      res.end(JSON.stringify({ id: 'apr-7', status: polls >= 2 ? 'approved' : 'pending' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const result = await guard(ctxWith('high-risk=approve'), 'refund', { risk: 'high', external: true }, { approvals: new HttpApprovals(url, 'tok'), pollMs: 5 });
      assert.deepEqual(result, { allowed: true, approvalId: 'apr-7' });
      assert.equal(seen[0], 'POST /v1/approvals Bearer tok');
      assert.equal(seen[1], 'GET /v1/approvals/apr-7 Bearer tok');
    } finally {
      server.close();
    }
  });

  it('parses any constraints header without throwing, never loosening a known key', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('off', 'OFF', 'bogus', 'on'), fc.constantFrom('approve', 'deny', 'allow', '???'), (noise, ext, risk) => {
        const c = parseConstraints(`${noise}, external-actions=${ext}, high-risk=${risk}`);
        assert.equal(c.externalActions, ext.toLowerCase() === 'on' ? 'on' : 'off');
        assert.equal(c.highRisk, risk === 'allow' ? 'allow' : risk === 'approve' ? 'approve' : 'deny');
        parseConstraints(noise);
      }),
    );
  });
});

describe('memory keys and drift', () => {
  it('namespaces memory keys by release', () => {
    assert.equal(memoryKey({ memoryNamespace: 'support-agent/m2' }, 'session:1'), 'support-agent/m2:session:1');
    assert.equal(memoryKey({}, 'session:1'), 'session:1');
  });

  it('reports drift when the gateway and the process disagree on the digest', () => {
    const ctx = sluiceContext(gatewayHeaders);
    assert.equal(checkDrift(ctx, { release: 'support-agent@2.3.1', digest: ctx.digest! }).drift, false);
    const d = checkDrift(ctx, { release: 'support-agent@2.3.0', digest: 'sha256:' + 'cd'.repeat(32) });
    assert.equal(d.drift, true);
    assert.match(d.message!, /support-agent@2\.3\.0/);
  });
});
