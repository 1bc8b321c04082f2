/**
 * The ingest server under test, in its own process so its CPU time can be read from /proc.
 * Real parts: the Hono app served by @hono/node-server, the bounded queue, the protobuf decoder
 * and the aggregator tracking one rollout, flushed every second like the analysis loop would.
 */
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { TelemetryAggregator } from '../../packages/sluice/src/telemetry/aggregate/aggregator.js';
import { staticAuthorizer } from '../../packages/sluice/src/telemetry/auth.js';
import { createIngestApp } from '../../packages/sluice/src/telemetry/http.js';
import { emptyIngestCounters } from '../../packages/sluice/src/telemetry/metrics.js';
import { IngestQueue } from '../../packages/sluice/src/telemetry/queue.js';
import { BENCH_ROLLOUT } from './fixtures.js';

const aggregator = new TelemetryAggregator({ sessionIdleMs: 500, settleMs: 200 });
aggregator.track([BENCH_ROLLOUT]);
const counters = emptyIngestCounters();
const queue = new IngestQueue();
const app = createIngestApp({ aggregator, queue, counters, authorize: staticAuthorizer({ 'bench-token': 'bench' }) });
const flusher = setInterval(() => aggregator.flush(BENCH_ROLLOUT.id, { step: 0, weight: 10 }), 1000);

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
  process.send!({ type: 'ready', port: info.port });
});

process.on('message', (m: { type: string }) => {
  if (m.type === 'stats') {
    const w = aggregator.flush(BENCH_ROLLOUT.id, { step: 0, weight: 10 })!;
    process.send!({ type: 'stats', counters, aggregator: aggregator.counters, refused: queue.refused, cumulativeSessions: w.cumulative.baseline.sessions + w.cumulative.canary.sessions });
  }
  if (m.type === 'stop') {
    clearInterval(flusher);
    server.close(() => process.exit(0));
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  }
});
