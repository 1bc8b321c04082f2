import { z } from '@hono/zod-openapi';
import { invalid, parsePlan, validatePlan, type RolloutCommandBody } from '@sluice/core';
import type { RouteModule } from '../../app.js';
import type { Role } from '../../auth/roles.js';
import { currentEpoch } from '../../epoch.js';
import { commandRollout, getRollout, listEvents, listRollouts, reportDrain, startRollout } from '../../services/rollouts.js';
import type { Queryable } from '../../../adapters/store/database.js';
import { zodDetails } from '../errors.js';
import { ErrorSchema } from '../schemas.js';
import { MAX_WAIT_MS } from './routing.js';

const RolloutSchema = z
  .object({
    id: z.string(),
    agent: z.string(),
    status: z.string(),
    active: z.boolean(),
    baselineDigest: z.string(),
    candidateDigest: z.string(),
    state: z.looseObject({}),
    events: z.number(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Rollout');

const StartRolloutSchema = z
  .object({
    plan: z.looseObject({}).optional().openapi({ description: 'the plan as JSON (docs/rollouts.md)' }),
    planYaml: z.string().optional().openapi({ description: 'or the plan as YAML text' }),
    reason: z.string().max(2000).optional(),
  })
  .openapi('StartRollout');

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });
const err = (description: string) => ({ description, ...json(ErrorSchema) });

const id = z.object({ id: z.string() });

/** Each verb: the role it needs, what it asks the reducer, and what its body may carry. */
const VERBS: Array<{
  verb: string;
  role: Role;
  summary: string;
  body: z.ZodObject;
  /** Turns the request body into the reducer's command, inside the command's transaction. */
  command: (b: Record<string, unknown>, tx: Queryable, rolloutId: string) => RolloutCommandBody | Promise<RolloutCommandBody>;
}> = [
  { verb: 'pause', role: 'operator', summary: 'Pause: hold the current weight until resumed', body: z.object({ reason: z.string().optional() }), command: () => ({ type: 'pause' }) },
  { verb: 'resume', role: 'operator', summary: 'Resume a paused rollout', body: z.object({ reason: z.string().optional() }), command: () => ({ type: 'resume' }) },
  { verb: 'promote', role: 'operator', summary: 'Skip the remaining steps: the candidate serves everything', body: z.object({ reason: z.string().optional() }), command: () => ({ type: 'promote' }) },
  {
    verb: 'rollback',
    role: 'operator',
    summary: 'Roll back: new units go to the baseline; canary sessions drain (or cut over with mode hard)',
    body: z.object({ reason: z.string().optional(), mode: z.enum(['drain', 'hard']).optional() }),
    command: (b) => ({ type: 'rollback', ...(b.mode ? { mode: b.mode as 'drain' | 'hard' } : {}) }),
  },
  { verb: 'abort', role: 'operator', summary: 'Abort: the baseline serves everything at once', body: z.object({ reason: z.string().optional() }), command: () => ({ type: 'abort' }) },
  { verb: 'approve', role: 'approver', summary: 'Approve the pending approval step (someone other than who started the rollout)', body: z.object({ reason: z.string().optional() }), command: () => ({ type: 'approve' }) },
  {
    verb: 'verdict',
    role: 'operator',
    summary: 'Record an analysis verdict (used by the analysis loop)',
    body: z.object({ reason: z.string().optional(), verdict: z.enum(['pass', 'fail', 'inconclusive', 'nodata']), onRegression: z.enum(['rollback', 'pause']).optional(), step: z.number().int().optional(), details: z.unknown().optional() }),
    command: (b) => ({ type: 'verdict', verdict: b.verdict, ...(b.onRegression ? { onRegression: b.onRegression } : {}), ...(b.step !== undefined ? { step: b.step } : {}), ...(b.details !== undefined ? { details: b.details } : {}) }) as RolloutCommandBody,
  },
  {
    verb: 'drain-progress',
    role: 'operator',
    summary: 'Report canary sessions still in flight during a rollback (used by gateways; with `gateway`, the rollout hears the sum over gateways)',
    body: z.object({ reason: z.string().optional(), inFlight: z.number().int().min(0), gateway: z.string().min(1).max(200).optional() }),
    command: async (b, tx, rolloutId) => ({
      type: 'drain-progress',
      inFlight: typeof b.gateway === 'string' ? await reportDrain(tx, rolloutId, b.gateway, b.inFlight as number) : (b.inFlight as number),
    }),
  },
];

export const rolloutRoutes: RouteModule = (app, kit) => {
  app.openapi(
    kit.op('operator', {
      method: 'post',
      path: '/v1/rollouts',
      tags: ['rollouts'],
      summary: "Start a rollout of a plan's candidate from the agent's stable release (one active rollout per agent)",
      request: { body: { ...json(StartRolloutSchema), required: true } },
      responses: {
        201: { description: 'started', ...json(RolloutSchema) },
        400: err('invalid plan'),
        404: err('unknown release'),
        409: err('the agent already has an active rollout'),
        422: err('the candidate fails the signature policy or is not deployed'),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const plan =
        body.planYaml !== undefined
          ? parsePlan(body.planYaml, 'planYaml')
          : validatePlan(body.plan ?? {}, 'plan');
      return kit.command(c, body, async (tx, actor, requestId) => {
        const rollout = await startRollout(tx, { plan, requestId, actor, roles: [c.get('token').role], ...(body.reason ? { reason: body.reason } : {}) }, kit.policy);
        return { status: 201, body: rollout };
      });
    },
  );

  app.openapi(
    kit.op('viewer', {
      method: 'get',
      path: '/v1/rollouts',
      tags: ['rollouts'],
      summary: 'List rollouts',
      request: { query: z.object({ agent: z.string().optional(), active: z.enum(['true', 'false']).optional() }) },
      responses: { 200: { description: 'rollouts', ...json(z.object({ rollouts: z.array(RolloutSchema) })) } },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rollouts = await listRollouts(kit.db, { ...(q.agent ? { agent: q.agent } : {}), ...(q.active ? { active: q.active === 'true' } : {}) });
      return c.json({ rollouts } as never, 200);
    },
  );

  app.openapi(
    kit.op('viewer', {
      method: 'get',
      path: '/v1/rollouts/{id}',
      tags: ['rollouts'],
      summary: 'One rollout and its state',
      request: { params: id },
      responses: { 200: { description: 'the rollout', ...json(RolloutSchema) }, 404: err('unknown rollout') },
    }),
    async (c) => c.json((await getRollout(kit.db, c.req.valid('param').id)) as never, 200),
  );

  app.openapi(
    kit.op('viewer', {
      method: 'get',
      path: '/v1/rollouts/{id}/events',
      tags: ['rollouts'],
      summary: "The rollout's event log after `after`; long-polls up to `waitMs` when there is nothing new",
      request: {
        params: id,
        query: z.object({ after: z.coerce.number().int().min(0).optional(), waitMs: z.coerce.number().int().min(0).max(MAX_WAIT_MS).optional() }),
      },
      responses: { 200: { description: 'events', ...json(z.object({ events: z.array(z.object({ seq: z.number(), event: z.looseObject({}) })) })) }, 404: err('unknown rollout') },
    }),
    async (c) => {
      const { id: rid } = c.req.valid('param');
      const { after = 0, waitMs = 0 } = c.req.valid('query');
      const deadline = Date.now() + waitMs;
      let events = await listEvents(kit.db, rid, after);
      while (events.length === 0 && Date.now() < deadline && !c.req.raw.signal.aborted) {
        const { epoch } = await currentEpoch(kit.db);
        events = await listEvents(kit.db, rid, after);
        if (events.length > 0) break;
        await kit.routing.waitFor(epoch, deadline - Date.now(), c.req.raw.signal);
        events = await listEvents(kit.db, rid, after);
      }
      return c.json({ events } as never, 200);
    },
  );

  for (const v of VERBS) {
    app.openapi(
      kit.op(v.role, {
        method: 'post',
        path: `/v1/rollouts/{id}/${v.verb}`,
        tags: ['rollouts'],
        summary: v.summary,
        request: { params: id, body: { ...json(v.body), required: false } },
        responses: {
          200: { description: 'applied (or already applied with this Idempotency-Key)', ...json(RolloutSchema) },
          400: err('bad input'),
          403: err('the four-eyes rule or the approval role refuses this actor'),
          404: err('unknown rollout'),
          409: err('the command does not apply in the current status'),
        },
      }),
      async (c) => {
        const { id: rid } = c.req.valid('param');
        const raw = (await c.req.json().catch(() => ({}))) as unknown;
        const parsed = v.body.safeParse(raw ?? {});
        if (!parsed.success) {
          const details = zodDetails(parsed.error, 'json');
          throw invalid(`invalid request ${details[0]?.where}: ${details[0]?.message}`, details);
        }
        const b = parsed.data as Record<string, unknown>;
        return kit.command(c, { id: rid, verb: v.verb, ...b }, async (tx, actor, requestId) => {
          const reason = typeof b.reason === 'string' ? b.reason : undefined;
          const { rollout } = await commandRollout(tx, rid, await v.command(b, tx, rid), { requestId, actor, roles: [c.get('token').role], ...(reason ? { reason } : {}) });
          return { status: 200, body: rollout };
        });
      },
    );
  }
};
