/**
 * Telemetry and analysis as parts of a process. `createAnalysisService()` builds the
 * aggregator, the ingest queue and the price table; its `routes` mount ingest
 * (`/v1/traces`, `/v1/events`) and the analysis API on the control app; `attach(plane)` makes the
 * analysis loop and registers the `/metrics` series. `sluice up` composes it:
 *
 *   const analysis = await createAnalysisService({ priceFile: join(dataDir, 'prices.json') });
 *   const plane = await openControlPlane({ ...opts, routes: [analysis.routes] });
 *   const loop = analysis.attach(plane);               // a ServerPart: start after the plane
 *   gateway.measurements.subscribe(analysis.onGatewayEvent);
 */
import type { RouteModule } from '../control/app.js';
import type { ControlMetrics } from '../control/metrics.js';
import type { Database } from '../adapters/store/database.js';
import { TelemetryAggregator, type AggregatorOptions } from '../telemetry/aggregate/aggregator.js';
import { tokenAuthorizer } from '../telemetry/auth.js';
import { createIngestApp } from '../telemetry/http.js';
import { emptyIngestCounters, registerTelemetryMetrics, type IngestCounters } from '../telemetry/metrics.js';
import type { MeasuredRequest } from '../telemetry/model.js';
import { PriceBook, PriceFile } from '../telemetry/prices.js';
import { IngestQueue, type IngestQueueOptions } from '../telemetry/queue.js';
import { AnalysisLoop } from './loop.js';
import { analysisRoutes } from './routes.js';
import { measurementRoutes } from './measurements-route.js';

export interface AnalysisServiceOptions {
  /** JSON file holding the price table; defaults apply until someone edits it. */
  priceFile?: string;
  aggregator?: Omit<AggregatorOptions, 'prices'>;
  queue?: IngestQueueOptions;
  maxBodyBytes?: number;
  /** How often the analysis loop looks (each rollout's `interval` still decides its windows). */
  tickMs?: number;
  onError?: (err: unknown) => void;
}

export interface AnalysisService {
  aggregator: TelemetryAggregator;
  queue: IngestQueue;
  counters: IngestCounters;
  prices: PriceBook;
  routes: RouteModule;
  /** Build the analysis loop on the control plane's store, and register telemetry's metrics. */
  attach(plane: { db: Database; metrics: ControlMetrics; routing: { changed(): void } }): AnalysisLoop;
  /** Feed to the gateway's `Measurements.subscribe`. */
  onGatewayEvent(e: { type: string; measurement?: MeasuredRequest }): void;
}

export async function createAnalysisService(opts: AnalysisServiceOptions = {}): Promise<AnalysisService> {
  const priceFile = opts.priceFile ? new PriceFile(opts.priceFile) : undefined;
  const prices = new PriceBook(priceFile ? await priceFile.load() : undefined);
  const aggregator = new TelemetryAggregator({ ...opts.aggregator, prices });
  const queue = new IngestQueue(opts.queue);
  const counters = emptyIngestCounters();
  const api = analysisRoutes({ aggregator, prices, ...(priceFile ? { priceFile } : {}) });
  const routes: RouteModule = (app, kit) => {
    const ingest = createIngestApp({ aggregator, queue, counters, authorize: tokenAuthorizer(kit.db), ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}) });
    app.route('/', ingest);
    documentIngest(app.openAPIRegistry);
    api(app, kit);
    measurementRoutes(aggregator)(app, kit);
  };
  return {
    aggregator,
    queue,
    counters,
    prices,
    routes,
    attach(plane) {
      registerTelemetryMetrics(plane.metrics.registry, aggregator, queue, counters);
      return new AnalysisLoop({
        db: plane.db,
        aggregator,
        metrics: plane.metrics,
        onRolloutChanged: () => plane.routing.changed(),
        ...(opts.tickMs ? { tickMs: opts.tickMs } : {}),
        ...(opts.onError ? { onError: opts.onError } : {}),
      });
    },
    onGatewayEvent(e) {
      if (e.type === 'request' && e.measurement) aggregator.recordRequest(e.measurement);
    },
  };
}

/** The ingest routes are plain Hono (binary bodies); describe them in the OpenAPI document too. */
function documentIngest(registry: { registerPath: (route: never) => void }): void {
  const common = { tags: ['telemetry'], security: [{ bearer: [] }], 'x-sluice-role': 'agent' };
  registry.registerPath({
    ...common,
    method: 'post',
    path: '/v1/traces',
    summary: 'OTLP/HTTP trace ingest: ExportTraceServiceRequest as application/x-protobuf or application/json, gzip accepted',
    responses: {
      200: { description: 'ExportTraceServiceResponse (partial_success names spans refused one by one)' },
      400: { description: 'not an ExportTraceServiceRequest (google.rpc.Status)' },
      429: { description: 'ingest queue full: retry after Retry-After seconds' },
    },
  } as never);
  registry.registerPath({
    ...common,
    method: 'post',
    path: '/v1/events',
    summary: 'Business events keyed by session: {events: [{session, type: outcome|escalation|feedback|kpi, value, name?, at?, release?, cohort?}]}',
    responses: { 202: { description: 'accepted' }, 400: { description: 'an event is invalid; details name each field' } },
  } as never);
}
