/**
 * The analysis API: `GET /v1/rollouts/{id}/analysis` (every number behind each verdict, per
 * metric and window, and the decision-path table) and the price table (`/v1/prices`). Mounted
 * on the control API next to telemetry's ingest routes.
 */
import { z } from '@hono/zod-openapi';
import { notFound, parseAnalysisSpec, type AnalysisSpec } from '@sluice/core';
import type { RouteModule, RouteKit } from '../control/app.js';
import { appendAudit } from '../control/audit/chain.js';
import { ErrorSchema } from '../control/api/schemas.js';
import { getRollout } from '../control/services/rollouts.js';
import type { TelemetryAggregator } from '../telemetry/aggregate/aggregator.js';
import type { DecisionPaths } from '../telemetry/aggregate/paths.js';
import { ModelPriceSchema, type PriceBook, type PriceFile } from '../telemetry/prices.js';
import { listResults, type StoredResult } from './results.js';

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });
const err = (description: string) => ({ description, ...json(ErrorSchema) });

export interface AnalysisView {
  rollout: { id: string; agent: string; status: string; step: number; weight: number; baseline: string | null; candidate: string };
  analysis: AnalysisSpec | null;
  /** The newest window's full result, or null before the first window closed. */
  latest: StoredResult | null;
  /** Newest first: one line per judged window. */
  windows: Array<Pick<StoredResult, 'seq' | 'step' | 'weight' | 'verdict' | 'decision' | 'acted'> & { index: number; start: string; end: string; reason: string }>;
  /** As stored with the newest result (every replica's data), else live from this process's telemetry. */
  paths: DecisionPaths | null;
  openSessions: number;
}

export async function analysisView(kit: Pick<RouteKit, 'db'>, aggregator: TelemetryAggregator, id: string, limit = 20): Promise<AnalysisView> {
  const r = await getRollout(kit.db, id);
  const s = r.state;
  let analysis: AnalysisSpec | null;
  try {
    analysis = s.plan.analysis ? parseAnalysisSpec(s.plan.analysis, 'plan.analysis') : null;
  } catch {
    analysis = null;
  }
  const results = await listResults(kit.db, id, limit).catch((e: { code?: string }) => {
    if (e.code === '42P01') return []; // the analysis loop has not migrated this store yet
    throw e;
  });
  const latest = results[0] ?? null;
  return {
    rollout: { id: r.id, agent: r.agent, status: s.status, step: s.stepIndex, weight: s.weight, baseline: s.baseline, candidate: s.candidate },
    analysis,
    latest,
    windows: results.map((x) => ({ seq: x.seq, step: x.step, weight: x.weight, verdict: x.verdict, decision: x.decision, acted: x.acted, ...x.result.window, reason: x.result.reason })),
    paths: latest?.paths ?? aggregator.paths(id) ?? null,
    openSessions: aggregator.openSessions(id),
  };
}

export function analysisRoutes(deps: { aggregator: TelemetryAggregator; prices: PriceBook; priceFile?: PriceFile }): RouteModule {
  return (app, kit) => {
    app.openapi(
      kit.op('viewer', {
        method: 'get',
        path: '/v1/rollouts/{id}/analysis',
        tags: ['analysis'],
        summary: "The rollout's analysis: per metric and window the counts, estimates, interval, tolerance and rule that fired; the decision-path table",
        request: { params: z.object({ id: z.string() }), query: z.object({ limit: z.coerce.number().int().min(1).max(500).optional() }) },
        responses: { 200: { description: 'the analysis', ...json(z.looseObject({})) }, 404: err('unknown rollout') },
      }),
      async (c) => c.json((await analysisView(kit, deps.aggregator, c.req.valid('param').id, c.req.valid('query').limit ?? 20)) as never, 200),
    );

    const PricesSchema = z.record(z.string(), ModelPriceSchema).openapi('Prices');
    app.openapi(
      kit.op('viewer', {
        method: 'get',
        path: '/v1/prices',
        tags: ['analysis'],
        summary: 'The price table: USD per million input and output tokens, per model',
        responses: { 200: { description: 'the price table', ...json(z.object({ prices: PricesSchema })) } },
      }),
      (c) => c.json({ prices: deps.prices.entries() }, 200),
    );

    const save = async (actor: string, action: string, target: string, before: unknown, after: unknown) => {
      if (deps.priceFile) await deps.priceFile.save(deps.prices.entries());
      await kit.db.transaction((tx) => appendAudit(tx, { actor, action, target, before, after }));
    };

    app.openapi(
      kit.op('operator', {
        method: 'put',
        path: '/v1/prices/{model}',
        tags: ['analysis'],
        summary: 'Set the price of a model (matched exactly, then as the longest prefix of a model name)',
        request: { params: z.object({ model: z.string().min(1) }), body: { ...json(ModelPriceSchema), required: true } },
        responses: { 200: { description: 'the new table', ...json(z.object({ prices: PricesSchema })) }, 400: err('bad price') },
      }),
      async (c) => {
        const { model } = c.req.valid('param');
        const before = deps.prices.lookup(model) ?? null;
        const price = c.req.valid('json');
        deps.prices.set(model, price);
        await save(c.get('token').subject, 'prices.set', `price/${model}`, before, price);
        return c.json({ prices: deps.prices.entries() }, 200);
      },
    );

    app.openapi(
      kit.op('operator', {
        method: 'delete',
        path: '/v1/prices/{model}',
        tags: ['analysis'],
        summary: 'Remove a model from the price table (its tokens then count as unpriced)',
        request: { params: z.object({ model: z.string().min(1) }) },
        responses: { 200: { description: 'the new table', ...json(z.object({ prices: PricesSchema })) }, 404: err('no such model') },
      }),
      async (c) => {
        const { model } = c.req.valid('param');
        const before = deps.prices.entries()[model];
        if (!deps.prices.remove(model)) throw notFound(`no price for ${model}`, [{ where: 'model', message: 'not in the price table' }]);
        await save(c.get('token').subject, 'prices.remove', `price/${model}`, before, null);
        return c.json({ prices: deps.prices.entries() }, 200);
      },
    );
  };
}
