/**
 * The gateway as a part of `sluice up`: it takes routing configs straight from the control plane
 * in the same process (no HTTP, no token) and listens on `--gateway-port` (default 7701).
 * Affinity is in memory, or in Redis with `--redis-url` / SLUICE_REDIS_URL (key prefix
 * SLUICE_REDIS_PREFIX, default `sluice:affinity:`).
 *
 * Other parts that need the gateway in process (telemetry consumes its measurements, e.g.
 * `gw.measurements.subscribe(...)`) register in GATEWAY_ATTACHMENTS; each is called once the
 * gateway exists, before it starts, and may return a function to run when it stops.
 */
import { hostname } from 'node:os';
import type { ServerPart } from '../server/part.js';
import type { UpContext, UpExtension, UpOptions } from '../server/up.js';
import { watchRouting } from '../control/routing/watch.js';
import { commandRollout, reportDrain } from '../control/services/rollouts.js';
import { DrainReporter } from './drain-reporter.js';
import { FeedConfigSource } from './config-source.js';
import { Gateway } from './gateway.js';
import { Measurements } from './measurements.js';
import { MemoryAffinityStore } from '../adapters/affinity/memory/memory.js';
import { RedisAffinityStore } from '../adapters/affinity/redis/redis.js';

/** How this process's gateway names itself in drain reports: one entry per replica. */
const GATEWAY_NAME = `sluice-up@${hostname()}:${process.pid}`;

export const GATEWAY_ATTACHMENTS: Array<(gw: Gateway, ctx: UpContext) => void | (() => void | Promise<void>)> = [];

export function gatewayPart(ctx: UpContext): ServerPart {
  const { plane, options } = ctx;
  const source = new FeedConfigSource((apply, onError) => watchRouting({ db: plane.db, routing: plane.routing }, apply, { onError }));
  // Parts consume measurements by subscribing (GATEWAY_ATTACHMENTS); no pull buffer, so records
  // are not kept alive (and promoted by the collector) waiting for a drain() nobody calls.
  // Replicas of `sluice up` share affinity through Redis when SLUICE_REDIS_URL is set (as
  // `sluice gateway --redis-url` does); otherwise it stays in memory.
  const redisUrl = options.redisUrl ?? process.env.SLUICE_REDIS_URL;
  const affinity = redisUrl ? new RedisAffinityStore({ url: redisUrl, keyPrefix: process.env.SLUICE_REDIS_PREFIX ?? 'sluice:affinity:' }) : new MemoryAffinityStore();
  const gw = new Gateway({ port: options.gatewayPort, host: options.host, source, affinity, measurements: new Measurements(0) });
  const detach: Array<() => void | Promise<void>> = [];
  const drains = new DrainReporter({
    drains: () => gw.status().drains,
    report: async (rollout, inFlight, requestId) => {
      const { events } = await plane.db.transaction(async (tx) =>
        commandRollout(tx, rollout, { type: 'drain-progress', inFlight: await reportDrain(tx, rollout, GATEWAY_NAME, inFlight) }, { requestId: `${GATEWAY_NAME}:${requestId}`, actor: 'sluice-gateway', roles: ['operator'] }),
      );
      if (events.length > 0) plane.routing.changed();
    },
    onError: (err) => options.log?.(`gateway: drain report: ${(err as Error).message}`),
  });
  return {
    name: 'gateway',
    async start() {
      for (const attach of GATEWAY_ATTACHMENTS) {
        const d = attach(gw, ctx);
        if (d) detach.push(d);
      }
      await gw.start();
      drains.start();
    },
    async stop() {
      await drains.stop();
      await gw.stop();
      for (const d of detach.splice(0)) await d();
    },
    describe: () => `http://${options.host}:${gw.port}`,
  };
}

export const gatewayUpExtension = (_options: UpOptions): UpExtension => ({ parts: (ctx) => [gatewayPart(ctx)] });
