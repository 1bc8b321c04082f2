/**
 * The control plane as parts of a process: open the store, migrate, bootstrap the first admin
 * token, build the API app and the rollout loop. `sluice up` composes it with the other parts.
 */
import { openDatabase } from '../adapters/store/index.js';
import type { Database } from '../adapters/store/database.js';
import { instrument } from '../adapters/store/instrumented.js';
import { migrate } from '../adapters/store/migrations.js';
import { httpPart, type HttpPart } from '../server/http.js';
import type { ServerPart } from '../server/part.js';
import { createControlApp, type ControlApp, type RouteModule } from './app.js';
import { CONTROL_ROUTES } from './api/routes/index.js';
import { bootstrapAdmin } from './bootstrap.js';
import { RolloutLoop } from './loop.js';
import { createControlMetrics, type ControlMetrics } from './metrics.js';
import { MIGRATIONS } from './migrations/index.js';
import { RoutingHub } from './routing/hub.js';
import { OPEN_POLICY, type ReleasePolicy } from './services/releases.js';

export interface ControlPlaneOptions {
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema (tests use one per file). */
  schema?: string;
  port?: number;
  host?: string;
  policy?: ReleasePolicy;
  tickMs?: number;
  /** Extra `/v1` route modules (telemetry, analysis) mounted on the same app. */
  routes?: RouteModule[];
  onLoopError?: (err: unknown) => void;
}

export interface ControlPlane {
  db: Database;
  app: ControlApp;
  metrics: ControlMetrics;
  routing: RoutingHub;
  loop: RolloutLoop;
  http: HttpPart;
  /** Store (closed last), loop, HTTP: in start order. */
  parts: ServerPart[];
  /** The admin token's secret when this start created it (first start only). */
  adminToken: { token: string; file: string } | null;
  appliedMigrations: number[];
}

export async function openControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const raw = await openDatabase({ dataDir: opts.dataDir, ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}), ...(opts.schema ? { schema: opts.schema } : {}) });
  return assembleControlPlane(raw, opts);
}

/** The control plane on an open database (which it owns from here: its `store` part closes it). */
export async function assembleControlPlane(raw: Database, opts: Omit<ControlPlaneOptions, 'databaseUrl' | 'schema'>): Promise<ControlPlane> {
  const metrics = createControlMetrics();
  const db = instrument(raw, {
    query: (seconds, ok) => {
      metrics.storeSeconds.observe({}, seconds);
      if (!ok) metrics.storeErrors.inc();
    },
  });
  try {
    const appliedMigrations = await migrate(db, MIGRATIONS);
    const adminToken = await bootstrapAdmin(db, opts.dataDir);
    metrics.registry.onCollect(async () => {
      const rows = (await db.query<{ status: string; n: number }>('SELECT status, count(*)::integer AS n FROM rollouts GROUP BY status')).rows;
      metrics.rollouts.reset();
      for (const r of rows) metrics.rollouts.set({ state: r.status }, Number(r.n));
    });
    const routing = new RoutingHub(db);
    const app = createControlApp({ db, policy: opts.policy ?? OPEN_POLICY, metrics, routing }, [...CONTROL_ROUTES, ...(opts.routes ?? [])]);
    const loop = new RolloutLoop({ db, routing, metrics, ...(opts.tickMs ? { intervalMs: opts.tickMs } : {}), ...(opts.onLoopError ? { onError: opts.onLoopError } : {}) });
    const http = httpPart('control API', app.fetch, { port: opts.port ?? 7700, ...(opts.host ? { host: opts.host } : {}) });
    const store: ServerPart = {
      name: 'store',
      start: async () => {},
      stop: async () => {
        routing.close();
        await db.close();
      },
    };
    return { db, app, metrics, routing, loop, http, parts: [store, loop, http], adminToken, appliedMigrations };
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}
