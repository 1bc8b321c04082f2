import { z } from '@hono/zod-openapi';
import type { RouteModule } from '../../app.js';
import { listAudit, verifyAudit } from '../../audit/chain.js';
import { AuditRowSchema, AuditVerdictSchema } from '../schemas.js';

export const auditRoutes: RouteModule = (app, kit) => {
  app.openapi(
    kit.op('viewer', {
      method: 'get',
      path: '/v1/audit',
      tags: ['audit'],
      summary: 'The changelog: audit events, oldest first',
      request: {
        query: z.object({
          agent: z.string().optional(),
          since: z.string().optional(),
          target: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(10000).optional(),
        }),
      },
      responses: { 200: { description: 'events', content: { 'application/json': { schema: z.object({ events: z.array(AuditRowSchema) }) } } } },
    }),
    async (c) => c.json({ events: await listAudit(kit.db, c.req.valid('query')) } as never, 200),
  );

  app.openapi(
    kit.op('viewer', {
      method: 'get',
      path: '/v1/audit/verify',
      tags: ['audit'],
      summary: 'Walk the hash chain and name every edited or deleted row',
      responses: { 200: { description: 'verdict', content: { 'application/json': { schema: AuditVerdictSchema } } } },
    }),
    async (c) => c.json((await verifyAudit(kit.db)) as never, 200),
  );

  app.openapi(
    kit.op('viewer', {
      method: 'get',
      path: '/v1/whoami',
      tags: ['tokens'],
      summary: 'The token this request carries',
      responses: { 200: { description: 'token', content: { 'application/json': { schema: z.object({ id: z.string(), subject: z.string(), role: z.string() }) } } } },
    }),
    async (c) => {
      const t = c.get('token');
      return c.json({ id: t.id, subject: t.subject, role: t.role } as never, 200);
    },
  );
};
