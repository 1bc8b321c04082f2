/**
 * fast-check generators for rollout plans and commands, shared by the rollout's property tests
 * (and usable by the control plane's). Not exported from the package index.
 */
import fc from 'fast-check';
import { formatDuration } from '../duration.js';
import { RolloutPlanSchema, type RolloutPlan, type RolloutPlanInput } from '../plan.js';
import type { Role, RolloutCommand, RolloutCommandBody, RolloutVerdict } from '../state.js';

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);
const version = fc.tuple(fc.nat(9), fc.nat(20), fc.nat(20)).map(([a, b, c]) => `${a}.${b}.${c}`);
/** Durations as authors write them: whole seconds, shortest form. */
export const durationText = fc.integer({ min: 1, max: 3 * 86_400 }).map((s) => formatDuration(s * 1000));

type StepInput = RolloutPlanInput['steps'][number];

/** Plan input (what an author writes) that the schema accepts. */
export const planInput: fc.Arbitrary<RolloutPlanInput> = fc
  .record({
    agent: name,
    versions: fc.uniqueArray(version, { minLength: 2, maxLength: 2 }),
    withBaseline: fc.boolean(),
    strategy: fc.constantFrom('canary', 'intent', 'shadow', 'blue-green' as const),
    unit: fc.option(fc.constantFrom('session', 'user', 'request' as const), { nil: undefined }),
    weights: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 0, maxLength: 5 }),
    extras: fc.array(
      fc.record({
        at: fc.nat(6),
        step: fc.oneof(
          fc.record({ pause: fc.option(durationText, { nil: undefined }).map((d) => (d === undefined ? {} : { duration: d })) }),
          fc.record({ approval: fc.constantFrom({}, { role: 'approver' as const }, { role: 'admin' as const }) }),
        ),
      }),
      { maxLength: 3 },
    ),
    holds: fc.array(fc.option(durationText, { nil: undefined }), { minLength: 6, maxLength: 6 }),
    gates: fc.array(fc.subarray(['analysis', 'window'] as const), { minLength: 6, maxLength: 6 }),
    withAnalysis: fc.boolean(),
    rollback: fc.option(fc.record({ mode: fc.constantFrom('drain', 'hard' as const), drainTimeout: fc.option(durationText, { nil: undefined }) }), { nil: undefined }),
  })
  .map((r) => {
    let weights = [...r.weights].sort((a, b) => a - b);
    if (r.strategy === 'blue-green') weights = weights.map((w) => (w < 50 ? 0 : 100));
    if (r.strategy !== 'shadow' || weights.length === 0) weights.push(100);
    const steps: StepInput[] = weights.map((weight, i) => {
      const gates = r.withAnalysis ? r.gates[i] ?? [] : (r.gates[i] ?? []).filter((g) => g !== 'analysis');
      return { weight, ...(r.holds[i] ? { hold: r.holds[i] } : {}), ...(gates.length ? { gates: [...gates] } : {}) };
    });
    for (const e of r.extras) steps.splice(Math.min(e.at, steps.length), 0, e.step as StepInput);
    const [v1, v2] = r.versions as [string, string];
    const rollback = r.rollback && { mode: r.rollback.mode, ...(r.rollback.drainTimeout ? { drainTimeout: r.rollback.drainTimeout } : {}) };
    return {
      agent: r.agent,
      ...(r.withBaseline ? { baseline: `${r.agent}@${v1}` } : {}),
      candidate: `${r.agent}@${v2}`,
      strategy: r.strategy,
      ...(r.unit ? { unit: r.unit } : {}),
      ...(r.strategy === 'intent' ? { intents: ['refunds'] } : {}),
      steps,
      ...(r.withAnalysis ? { analysis: { metrics: [{ name: 'error_rate' }] } } : {}),
      ...(rollback ? { rollback } : {}),
    } satisfies RolloutPlanInput;
  });

/** A validated plan. */
export const plan: fc.Arbitrary<RolloutPlan> = planInput.map((p) => RolloutPlanSchema.parse(p));

export const ACTORS = ['alice', 'bob', 'carol', 'sluice'] as const;
const roles: fc.Arbitrary<Role[] | undefined> = fc.option(fc.subarray(['viewer', 'operator', 'approver', 'admin'] as Role[]), { nil: undefined });

/** Any command but `create`, with a fresh-or-reused requestId (reuse tests idempotency). */
/**
 * Any command but `create`. Weighted so random runs get far: abort (which ends everything) is
 * rare, while the commands that move a rollout along are common.
 */
export const commandBody: fc.Arbitrary<RolloutCommandBody> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ type: 'start' as const }) },
  { weight: 3, arbitrary: fc.constant({ type: 'pause' as const }) },
  { weight: 6, arbitrary: fc.constant({ type: 'resume' as const }) },
  { weight: 9, arbitrary: fc.constant({ type: 'approve' as const }) },
  { weight: 2, arbitrary: fc.constant({ type: 'promote' as const }) },
  {
    weight: 9,
    arbitrary: fc
      .record({
        type: fc.constant('verdict' as const),
        verdict: fc.constantFrom<RolloutVerdict>('pass', 'pass', 'pass', 'fail', 'inconclusive', 'nodata'),
        onRegression: fc.option(fc.constantFrom('rollback', 'pause' as const), { nil: undefined }),
      })
      .map((c) => (c.onRegression === undefined ? { type: c.type, verdict: c.verdict } : c)),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({ type: fc.constant('rollback' as const), mode: fc.option(fc.constantFrom('drain', 'hard' as const), { nil: undefined }) })
      .map((c) => (c.mode === undefined ? { type: c.type } : c)),
  },
  { weight: 6, arbitrary: fc.record({ type: fc.constant('drain-progress' as const), inFlight: fc.integer({ min: -1, max: 5 }) }) },
  { weight: 3, arbitrary: fc.constant({ type: 'drained' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'abort' as const }) },
);

/** One step of a random run: a command, or a tick; after `advanceSeconds` of clock. */
export type RunStep =
  | { kind: 'command'; command: RolloutCommand; advanceSeconds: number }
  | { kind: 'tick'; advanceSeconds: number; windowOpen: boolean };

export const runStep: fc.Arbitrary<RunStep> = fc.oneof(
  { weight: 3, arbitrary: fc
    .record({ body: commandBody, actor: fc.constantFrom(...ACTORS), roles, id: fc.nat(60), advanceSeconds: fc.nat(4 * 3600) })
    .map(({ body, actor, roles, id, advanceSeconds }) => ({
      kind: 'command' as const,
      command: { ...body, requestId: `req-${id}`, actor, ...(roles ? { roles } : {}) } as RolloutCommand,
      advanceSeconds,
    })) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), advanceSeconds: fc.nat(4 * 3600), windowOpen: fc.boolean() }) },
);
