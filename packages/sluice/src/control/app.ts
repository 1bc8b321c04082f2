/**
 * The control API: a Hono app, described by OpenAPI from the zod schemas that validate it.
 * `createControlApp(deps)` is all a process needs to serve it; other parts (telemetry, the
 * dashboard) mount their routes on the app it returns.
 */
import { randomUUID } from 'node:crypto';
import { OpenAPIHono, createRoute, type RouteConfig } from '@hono/zod-openapi';
import { invalid } from '@sluice/core';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Database, Queryable } from '../adapters/store/database.js';
import { authenticate, type AuthVariables } from './api/auth.js';
import { errorResponse, zodDetails } from './api/errors.js';
import { mountProbes } from './api/routes/health.js';
import { CONTROL_ROUTES } from './api/routes/index.js';
import type { Role } from './auth/roles.js';
import { findResponse, requestHash, saveResponse } from './idempotency.js';
import type { ControlMetrics } from './metrics.js';
import type { RoutingHub } from './routing/hub.js';
import type { ReleasePolicy } from './services/releases.js';

export interface ControlDeps {
  db: Database;
  policy: ReleasePolicy;
  metrics: ControlMetrics;
  routing: RoutingHub;
}

export type ControlEnv = { Variables: AuthVariables };
export type ControlApp = OpenAPIHono<ControlEnv>;

/** What route modules get: the deps plus the helpers every route uses. */
export interface RouteKit extends ControlDeps {
  /** A route definition that requires `role`, says so in OpenAPI, and authenticates first. */
  op<R extends RouteConfig>(role: Role, route: R): R & { middleware: MiddlewareHandler<ControlEnv>[] };
  /** Run a state change in one transaction, idempotent by the request's `Idempotency-Key`. */
  command(c: Context<ControlEnv>, body: unknown, fn: (tx: Queryable, actor: string, requestId: string) => Promise<{ status: number; body: unknown }>): Promise<never>;
}

export type RouteModule = (app: ControlApp, kit: RouteKit) => void;

/** Control requests are small (a manifest is a few KB); refuse anything absurd before parsing it. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) =>
    c.json({ error: { kind: 'invalid', message: `request body larger than ${MAX_BODY_BYTES} bytes`, details: [{ where: 'body', message: 'too large' }] } }, 413),
});

export function createControlApp(deps: ControlDeps, modules: RouteModule[] = CONTROL_ROUTES): ControlApp {
  const app = new OpenAPIHono<ControlEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const details = zodDetails(result.error, `${result.target}`);
        return errorResponse(c, invalid(`invalid request ${details[0]?.where ?? result.target}: ${details[0]?.message ?? 'invalid'}`, details));
      }
      return undefined;
    },
  });

  // Request counts and latency by route pattern (not raw path, so ids do not explode the series).
  app.use('*', async (c, next) => {
    const t = performance.now();
    await next();
    const route = c.req.routePath || 'unmatched';
    const labels = { method: c.req.method, route, status: String(c.res.status) };
    deps.metrics.requests.inc(labels);
    deps.metrics.requestSeconds.observe({ route }, (performance.now() - t) / 1000);
  });

  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) => c.json({ error: { kind: 'not-found', message: `no route ${c.req.method} ${c.req.path}`, details: [] } }, 404));

  mountProbes(app as never, deps);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

  const kit: RouteKit = {
    ...deps,
    op: (role, route) =>
      createRoute({ ...route, security: [{ bearer: [] }], 'x-sluice-role': role, middleware: [authenticate(deps.db, role), limitBody] }) as never,
    command: async (c, body, fn) => {
      const actor = c.get('token').subject;
      const key = c.req.header('idempotency-key');
      const hash = requestHash(c.req.method, c.req.path, body);
      if (key !== undefined) {
        if (key.length === 0 || key.length > 200) throw invalid('Idempotency-Key must be 1..200 characters', [{ where: 'Idempotency-Key', message: 'bad length' }]);
        const stored = await findResponse(deps.db, actor, key, hash);
        if (stored) return replay(c, stored.status, stored.body) as never;
      }
      const requestId = key ?? randomUUID();
      try {
        const result = await deps.db.transaction(async (tx) => {
          const r = await fn(tx, actor, requestId);
          if (key !== undefined) await saveResponse(tx, actor, key, hash, r);
          return r;
        });
        deps.routing.changed();
        return c.json(result.body as object, result.status as 200) as never;
      } catch (err) {
        // Two requests with one key at once: the loser finds the winner's answer.
        if (key !== undefined && (err as { code?: string }).code === '23505') {
          const stored = await findResponse(deps.db, actor, key, hash);
          if (stored) return replay(c, stored.status, stored.body) as never;
        }
        throw err;
      }
    },
  };

  for (const mount of modules) mount(app, kit);

  app.doc31('/v1/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Sluice control API', version: '1', description: 'Release control plane for AI agents. Every call needs `Authorization: Bearer <token>`; `x-sluice-role` names the least role an operation needs.' },
  });
  return app;
}

function replay(c: Context, status: number, body: unknown): Response {
  c.header('Idempotent-Replayed', 'true');
  return c.json(body as object, status as 200);
}
