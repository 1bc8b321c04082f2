import { z } from '@hono/zod-openapi';
import type { RouteModule } from '../../app.js';
import { appendAudit } from '../../audit/chain.js';
import { createToken, listTokens, revokeToken } from '../../auth/tokens.js';
import { CreatedTokenSchema, CreateTokenSchema, ErrorSchema, ReasonSchema, TokenInfoSchema } from '../schemas.js';

export const tokenRoutes: RouteModule = (app, kit) => {
  app.openapi(
    kit.op('admin', {
      method: 'post',
      path: '/v1/tokens',
      tags: ['tokens'],
      summary: 'Create a token; its secret is in this response only',
      request: { body: { content: { 'application/json': { schema: CreateTokenSchema } }, required: true } },
      responses: {
        201: { description: 'created', content: { 'application/json': { schema: CreatedTokenSchema } } },
        400: { description: 'bad input', content: { 'application/json': { schema: ErrorSchema } } },
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return kit.command(c, body, async (tx, actor) => {
        const created = await createToken(tx, { ...body, createdBy: actor });
        // The audit records who holds which role, never the secret.
        await appendAudit(tx, { actor, action: 'token.create', target: `token/${created.info.id}`, after: created.info });
        return { status: 201, body: created };
      });
    },
  );

  app.openapi(
    kit.op('admin', {
      method: 'get',
      path: '/v1/tokens',
      tags: ['tokens'],
      summary: 'List tokens (never their secrets)',
      responses: { 200: { description: 'tokens', content: { 'application/json': { schema: z.object({ tokens: z.array(TokenInfoSchema) }) } } } },
    }),
    async (c) => c.json({ tokens: await listTokens(kit.db) } as never, 200),
  );

  app.openapi(
    kit.op('admin', {
      method: 'post',
      path: '/v1/tokens/{id}/revoke',
      tags: ['tokens'],
      summary: 'Revoke a token: it is refused from now on',
      request: { params: z.object({ id: z.string() }), body: { content: { 'application/json': { schema: ReasonSchema } }, required: false } },
      responses: {
        200: { description: 'revoked', content: { 'application/json': { schema: TokenInfoSchema } } },
        404: { description: 'unknown token', content: { 'application/json': { schema: ErrorSchema } } },
        409: { description: 'already revoked', content: { 'application/json': { schema: ErrorSchema } } },
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = (await c.req.json().catch(() => ({}))) as { reason?: string };
      return kit.command(c, { id, ...body }, async (tx, actor) => {
        const { before, after } = await revokeToken(tx, id);
        await appendAudit(tx, { actor, action: 'token.revoke', target: `token/${id}`, reason: body.reason ?? null, before, after });
        return { status: 200, body: after };
      });
    },
  );
};
