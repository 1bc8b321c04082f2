import { z } from '@hono/zod-openapi';
import type { RouteModule } from '../../app.js';
import { listAgents } from '../../services/agents.js';
import { addDeployment, listDeployments } from '../../services/deployments.js';
import { AddDeploymentSchema, AgentSchema, DeploymentSchema, ErrorSchema } from '../schemas.js';

export const deploymentRoutes: RouteModule = (app, kit) => {
  app.openapi(
    kit.op('operator', {
      method: 'post',
      path: '/v1/deployments',
      tags: ['deployments'],
      summary: "Bind a release to the upstream URL(s) that serve it; an agent's first deployment becomes its stable release",
      request: { body: { content: { 'application/json': { schema: AddDeploymentSchema } }, required: true } },
      responses: {
        201: { description: 'added', content: { 'application/json': { schema: DeploymentSchema } } },
        400: { description: 'bad input', content: { 'application/json': { schema: ErrorSchema } } },
        404: { description: 'unknown release', content: { 'application/json': { schema: ErrorSchema } } },
        422: { description: 'the release fails the signature policy', content: { 'application/json': { schema: ErrorSchema } } },
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return kit.command(c, body, async (tx, actor) => ({ status: 201, body: await addDeployment(tx, actor, body, kit.policy) }));
    },
  );

  app.openapi(
    kit.op('viewer', {
      method: 'get',
      path: '/v1/deployments',
      tags: ['deployments'],
      summary: 'List deployments',
      request: { query: z.object({ agent: z.string().optional() }) },
      responses: { 200: { description: 'deployments', content: { 'application/json': { schema: z.object({ deployments: z.array(DeploymentSchema) }) } } } },
    }),
    async (c) => c.json({ deployments: await listDeployments(kit.db, c.req.valid('query').agent) } as never, 200),
  );

  app.openapi(
    kit.op('viewer', {
      method: 'get',
      path: '/v1/agents',
      tags: ['agents'],
      summary: 'List agents and their stable releases',
      responses: { 200: { description: 'agents', content: { 'application/json': { schema: z.object({ agents: z.array(AgentSchema) }) } } } },
    }),
    async (c) => c.json({ agents: await listAgents(kit.db) } as never, 200),
  );
};
