import { z } from '@hono/zod-openapi';
import type { RouteModule } from '../../app.js';
import { decideApproval, getApproval, listApprovals, requestApproval } from '../../services/approvals.js';
import { ErrorSchema, ReasonSchema } from '../schemas.js';

const ApprovalRequestSchema = z
  .object({
    action: z.string().min(1).max(200),
    risk: z.enum(['low', 'medium', 'high']),
    external: z.boolean(),
    session: z.string().max(500).optional(),
    release: z.string().max(500).optional(),
    reason: z.string().max(2000).optional(),
  })
  .openapi('ApprovalRequest');

const ApprovalSchema = z
  .object({
    id: z.string(),
    action: z.string(),
    risk: z.enum(['low', 'medium', 'high']),
    external: z.boolean(),
    session: z.string().nullable(),
    release: z.string().nullable(),
    reason: z.string().nullable(),
    status: z.enum(['pending', 'approved', 'denied']),
    requestedBy: z.string(),
    requestedAt: z.string(),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    decisionReason: z.string().nullable(),
  })
  .openapi('Approval');

const notFound = { description: 'unknown approval', content: { 'application/json': { schema: ErrorSchema } } };

export const approvalRoutes: RouteModule = (app, kit) => {
  app.openapi(
    kit.op('agent', {
      method: 'post',
      path: '/v1/approvals',
      tags: ['approvals'],
      summary: 'Ask for a person to approve one agent action (what the SDK guard does under high-risk=approve)',
      request: { body: { content: { 'application/json': { schema: ApprovalRequestSchema } }, required: true } },
      responses: {
        201: { description: 'pending', content: { 'application/json': { schema: ApprovalSchema } } },
        400: { description: 'bad input', content: { 'application/json': { schema: ErrorSchema } } },
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return kit.command(c, body, async (tx, actor) => ({ status: 201, body: await requestApproval(tx, body, actor) }));
    },
  );

  app.openapi(
    kit.op('viewer', {
      method: 'get',
      path: '/v1/approvals',
      tags: ['approvals'],
      summary: 'List approvals, oldest first; ?status=pending for the backlog',
      request: { query: z.object({ status: z.enum(['pending', 'approved', 'denied']).optional() }) },
      responses: { 200: { description: 'approvals', content: { 'application/json': { schema: z.object({ approvals: z.array(ApprovalSchema) }) } } } },
    }),
    async (c) => c.json({ approvals: await listApprovals(kit.db, c.req.valid('query').status) } as never, 200),
  );

  app.openapi(
    kit.op('viewer', {
      method: 'get',
      path: '/v1/approvals/{id}',
      tags: ['approvals'],
      summary: 'One approval and its status (what a waiting agent polls)',
      request: { params: z.object({ id: z.string() }) },
      responses: { 200: { description: 'the approval', content: { 'application/json': { schema: ApprovalSchema } } }, 404: notFound },
    }),
    async (c) => c.json((await getApproval(kit.db, c.req.valid('param').id)) as never, 200),
  );

  for (const [verb, decision] of [['approve', 'approved'], ['deny', 'denied']] as const) {
    app.openapi(
      kit.op('approver', {
        method: 'post',
        path: `/v1/approvals/{id}/${verb}`,
        tags: ['approvals'],
        summary: `${verb === 'approve' ? 'Approve' : 'Deny'} a pending approval (four eyes: not whoever asked for it)`,
        request: { params: z.object({ id: z.string() }), body: { content: { 'application/json': { schema: ReasonSchema } }, required: false } },
        responses: {
          200: { description: decision, content: { 'application/json': { schema: ApprovalSchema } } },
          403: { description: 'the requester cannot decide', content: { 'application/json': { schema: ErrorSchema } } },
          404: notFound,
          409: { description: 'already decided', content: { 'application/json': { schema: ErrorSchema } } },
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const body = (await c.req.json().catch(() => ({}))) as { reason?: string };
        return kit.command(c, { id, ...body }, async (tx, actor) => ({ status: 200, body: await decideApproval(tx, id, decision, actor, body.reason) }));
      },
    );
  }
};
