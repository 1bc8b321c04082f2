import { z } from '@hono/zod-openapi';
import type { RouteModule } from '../../app.js';
import { listReleases, registerRelease, resolveRelease } from '../../services/releases.js';
import type { ReleaseManifest } from '@sluice/core';
import { ErrorSchema, RegisterReleaseSchema, ReleaseSchema } from '../schemas.js';

const errors = { 400: { description: 'bad input', content: { 'application/json': { schema: ErrorSchema } } } };

export const releaseRoutes: RouteModule = (app, kit) => {
  app.openapi(
    kit.op('operator', {
      method: 'post',
      path: '/v1/releases',
      tags: ['releases'],
      summary: 'Register a built release (manifest + DSSE envelopes); the server recomputes the digest',
      request: { body: { content: { 'application/json': { schema: RegisterReleaseSchema } }, required: true } },
      responses: {
        201: { description: 'registered', content: { 'application/json': { schema: ReleaseSchema } } },
        200: { description: 'already registered with this digest', content: { 'application/json': { schema: ReleaseSchema } } },
        ...errors,
        409: { description: 'agent@version taken by another manifest', content: { 'application/json': { schema: ErrorSchema } } },
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return kit.command(c, body, async (tx, actor) => {
        const input = { manifest: body.manifest as unknown as ReleaseManifest, envelopes: body.envelopes, ...(body.digest ? { digest: body.digest } : {}) };
        const { release, created } = await registerRelease(tx, actor, input, kit.policy);
        return { status: created ? 201 : 200, body: release };
      });
    },
  );

  app.openapi(
    kit.op('viewer', {
      method: 'get',
      path: '/v1/releases',
      tags: ['releases'],
      summary: 'List registered releases',
      request: { query: z.object({ agent: z.string().optional() }) },
      responses: { 200: { description: 'releases', content: { 'application/json': { schema: z.object({ releases: z.array(ReleaseSchema) }) } } } },
    }),
    async (c) => c.json({ releases: await listReleases(kit.db, c.req.valid('query').agent) } as never, 200),
  );

  app.openapi(
    kit.op('viewer', {
      method: 'get',
      path: '/v1/releases/{ref}',
      tags: ['releases'],
      summary: 'One release by agent@version or digest',
      request: { params: z.object({ ref: z.string() }) },
      responses: {
        200: { description: 'the release', content: { 'application/json': { schema: ReleaseSchema } } },
        404: { description: 'unknown release', content: { 'application/json': { schema: ErrorSchema } } },
      },
    }),
    async (c) => c.json((await resolveRelease(kit.db, c.req.valid('param').ref, 'ref')) as never, 200),
  );
};
