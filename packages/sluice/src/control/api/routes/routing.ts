import { z } from '@hono/zod-openapi';
import type { RouteModule } from '../../app.js';
import { buildRoutingConfig } from '../../routing/build.js';
import { RoutingConfigSchema } from '../schemas.js';

/** Longest a gateway may hold a long-poll open. */
export const MAX_WAIT_MS = 60_000;

export const routingRoutes: RouteModule = (app, kit) => {
  app.openapi(
    kit.op('viewer', {
      method: 'get',
      path: '/v1/routing',
      tags: ['routing'],
      summary: 'The routing config for gateways; long-polls until the epoch is newer than `after` (or `waitMs` passes)',
      request: {
        query: z.object({
          after: z.coerce.number().int().min(0).optional(),
          waitMs: z.coerce.number().int().min(0).max(MAX_WAIT_MS).optional(),
        }),
      },
      responses: { 200: { description: 'the current routing config', content: { 'application/json': { schema: RoutingConfigSchema } } } },
    }),
    async (c) => {
      const { after, waitMs } = c.req.valid('query');
      if (after !== undefined && waitMs) await kit.routing.waitFor(after, waitMs, c.req.raw.signal);
      return c.json((await buildRoutingConfig(kit.db)) as never, 200);
    },
  );
};
