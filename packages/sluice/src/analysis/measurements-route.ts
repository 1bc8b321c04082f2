/**
 * `POST /v1/measurements`: request measurements from gateways running on their own
 * (`sluice gateway`), so the analysis sees their traffic as it sees the in-process gateway's.
 * Delivery is at most once: a gateway drops (and counts) a batch it could not deliver rather than
 * risk counting it twice.
 */
import { z } from '@hono/zod-openapi';
import type { RouteModule } from '../control/app.js';
import { ErrorSchema } from '../control/api/schemas.js';
import type { TelemetryAggregator } from '../telemetry/aggregate/aggregator.js';
import type { MeasuredRequest } from '../telemetry/model.js';

export const MAX_MEASUREMENTS_PER_BATCH = 20_000;

const ms = z.number().finite().nonnegative();
const MeasuredRequestSchema = z.object({
  at: ms,
  rollout: z.string().optional(),
  release: z.string().min(1),
  digest: z.string().min(1),
  cohort: z.enum(['baseline', 'canary', 'shadow']),
  unit: z.string().optional(),
  status: z.number().int().min(0).max(999),
  latencyMs: ms,
  ttfbMs: ms,
  outcome: z.string().optional(),
  usage: z.object({ inputTokens: ms.optional(), outputTokens: ms.optional(), totalTokens: ms.optional() }).optional(),
  error: z.string().optional(),
});

const BatchSchema = z
  .object({
    /** Which gateway sent it, for logs and metrics. */
    gateway: z.string().min(1).max(200),
    requests: z.array(MeasuredRequestSchema).max(MAX_MEASUREMENTS_PER_BATCH),
  })
  .openapi('MeasurementBatch');

export function measurementRoutes(aggregator: TelemetryAggregator): RouteModule {
  return (app, kit) => {
    app.openapi(
      kit.op('agent', {
        method: 'post',
        path: '/v1/measurements',
        tags: ['telemetry'],
        summary: "A standalone gateway's request measurements, for the analysis",
        request: { body: { content: { 'application/json': { schema: BatchSchema } }, required: true } },
        responses: {
          200: { description: 'recorded', content: { 'application/json': { schema: z.object({ recorded: z.number() }) } } },
          400: { description: 'bad input', content: { 'application/json': { schema: ErrorSchema } } },
        },
      }),
      async (c) => {
        const batch = c.req.valid('json');
        for (const m of batch.requests) aggregator.recordRequest(m as MeasuredRequest);
        return c.json({ recorded: batch.requests.length }, 200);
      },
    );
  };
}
