// The ten-line integration from docs/sdk.md, kept here so the build type-checks it.
import { createServer } from 'node:http';
import { sluiceContext, withSluiceContext, invokeAgent, executeTool, guard, outcome, boundary } from '../index.js';

export const server = createServer((req, res) => {
  const ctx = sluiceContext(req);
  const session = String(req.headers['sluice-session'] ?? 'anonymous');
  void withSluiceContext(ctx, () => invokeAgent('support-agent', { sluice: ctx, session }, async () => {
    const order = await executeTool('lookup_order', { session }, async () => ({ id: 42, total: 80 }));
    await guard(ctx, 'issue_refund', { risk: 'high', external: true }).catch(() => outcome(session, 'escalated'));
    boundary(res);
    res.end(JSON.stringify(order));
  }));
});
