/**
 * The rollout plan: how an agent moves from its baseline release to a candidate. Written as
 * YAML by people (`rollout.yaml`), sent as JSON over the API; both go through the same schema so
 * a plan means the same thing wherever it comes from. docs/rollouts.md documents the format.
 */
import { z } from 'zod';
import { parseDocument, LineCounter, stringify, isNode, type Document } from 'yaml';
import { invalid, type ErrorDetail } from '../errors/errors.js';
import { parseDuration } from './duration.js';
import { AnalysisSpecSchema } from '../analysis/spec.js';
import type { Strategy, Unit } from '../routing/config.js';

export const STRATEGIES = ['canary', 'intent', 'shadow', 'blue-green'] as const satisfies readonly Strategy[];
export const UNITS = ['session', 'user', 'request'] as const satisfies readonly Unit[];
export const GATES = ['analysis', 'window'] as const;
export const ROLLBACK_MODES = ['drain', 'hard'] as const;
/** Roles that may be asked to approve; a role is satisfied by itself or any higher role. */
export const APPROVAL_ROLES = ['approver', 'admin'] as const;

const NAME = /^[a-z0-9][a-z0-9._-]*$/;
const RELEASE_REF = /^([a-z0-9][a-z0-9._-]*)@([^\s@]+)$/;

const duration = z
  .string({ error: 'expected a duration like 30s, 10m, 2h or 1h30m' })
  .refine((v) => parseDuration(v) !== undefined, { error: 'expected a duration like 30s, 10m, 2h or 1h30m' });

const releaseRef = z.string({ error: 'expected a release as agent@version' }).regex(RELEASE_REF, {
  error: 'expected a release as agent@version, e.g. support-agent@2.3.1',
});

export const WeightStepSchema = z.strictObject({
  /** Percent of new units on the candidate (mirrored, for shadow). */
  weight: z
    .number({ error: 'weight must be a whole number of percent, 0..100' })
    .int({ error: 'weight must be a whole number of percent, 0..100' })
    .min(0, { error: 'weight must be between 0 and 100' })
    .max(100, { error: 'weight must be between 0 and 100' }),
  /** Minimum time at this step before it may advance. */
  hold: duration.optional(),
  /** What else must hold before the step advances: a passing analysis, an open maintenance window. */
  gates: z.array(z.enum(GATES, { error: `a gate is one of ${GATES.join(', ')}` })).optional(),
});

export const PauseStepSchema = z.strictObject({
  /** Without a duration the rollout waits for `sluice rollout resume`. */
  pause: z.strictObject({ duration: duration.optional() }),
});

export const ApprovalStepSchema = z.strictObject({
  /** Four-eyes gate: someone other than the people who created or started the rollout approves. */
  approval: z.strictObject({
    role: z.enum(APPROVAL_ROLES, { error: `role must be one of ${APPROVAL_ROLES.join(', ')}` }).default('approver'),
  }),
});

export const StepSchema = z.union([WeightStepSchema, PauseStepSchema, ApprovalStepSchema]);

export const RollbackSpecSchema = z.strictObject({
  mode: z.enum(ROLLBACK_MODES, { error: 'rollback mode is drain or hard' }).default('drain'),
  /** Drain: after this long, cut the remaining canary sessions over as if `hard`. */
  drainTimeout: duration.optional(),
});

export const RolloutPlanSchema = z
  .strictObject({
    agent: z.string({ error: 'agent is required' }).regex(NAME, { error: 'agent must be a lowercase name like support-agent' }),
    /** Optional: the control plane fills in the release serving the agent now. */
    baseline: releaseRef.optional(),
    candidate: releaseRef,
    description: z.string().optional(),
    strategy: z.enum(STRATEGIES, { error: `strategy must be one of ${STRATEGIES.join(', ')}` }).default('canary'),
    unit: z.enum(UNITS, { error: `unit must be one of ${UNITS.join(', ')}` }).default('session'),
    intents: z.array(z.string().min(1, { error: 'an intent is a non-empty name' })).optional(),
    steps: z.array(StepSchema, { error: 'steps must be a list' }).min(1, { error: 'a plan needs at least one step' }),
    analysis: AnalysisSpecSchema.optional(),
    rollback: RollbackSpecSchema.default({ mode: 'drain' }),
  })
  .superRefine((plan, ctx) => {
    const refAgent = (ref: string) => RELEASE_REF.exec(ref)?.[1];
    for (const field of ['baseline', 'candidate'] as const) {
      const ref = plan[field];
      if (ref !== undefined && refAgent(ref) !== plan.agent)
        ctx.addIssue({ code: 'custom', path: [field], message: `${field} ${ref} is not a release of agent ${plan.agent}` });
    }
    if (plan.baseline !== undefined && plan.baseline === plan.candidate)
      ctx.addIssue({ code: 'custom', path: ['candidate'], message: 'candidate is the same release as the baseline' });

    if (plan.strategy === 'intent' && (plan.intents === undefined || plan.intents.length === 0))
      ctx.addIssue({ code: 'custom', path: ['intents'], message: 'strategy intent needs at least one intent' });
    if (plan.strategy !== 'intent' && plan.intents !== undefined)
      ctx.addIssue({ code: 'custom', path: ['intents'], message: `intents only apply to strategy intent, not ${plan.strategy}` });

    let previous: number | undefined;
    let lastWeight: { index: number; weight: number } | undefined;
    plan.steps.forEach((step, index) => {
      if (!('weight' in step)) return;
      if (previous !== undefined && step.weight < previous)
        ctx.addIssue({
          code: 'custom',
          path: ['steps', index, 'weight'],
          message: `weights must not decrease: ${step.weight} comes after ${previous}`,
        });
      if (plan.strategy === 'blue-green' && step.weight !== 0 && step.weight !== 100)
        ctx.addIssue({ code: 'custom', path: ['steps', index, 'weight'], message: 'blue-green steps switch all at once: weight 0 or 100' });
      if (step.gates?.includes('analysis') && plan.analysis === undefined)
        ctx.addIssue({ code: 'custom', path: ['steps', index, 'gates'], message: 'gate analysis needs an analysis section in the plan' });
      previous = step.weight;
      lastWeight = { index, weight: step.weight };
    });
    if (lastWeight === undefined)
      ctx.addIssue({ code: 'custom', path: ['steps'], message: 'a plan needs at least one weight step' });
    else if (plan.strategy !== 'shadow' && lastWeight.weight !== 100)
      ctx.addIssue({
        code: 'custom',
        path: ['steps', lastWeight.index, 'weight'],
        message: `the last weight step of a ${plan.strategy} rollout must reach 100 (it is ${lastWeight.weight})`,
      });
  });

export type RolloutPlan = z.output<typeof RolloutPlanSchema>;
export type RolloutPlanInput = z.input<typeof RolloutPlanSchema>;
export type PlanStep = z.output<typeof StepSchema>;
export type WeightStep = z.output<typeof WeightStepSchema>;
export type PauseStep = z.output<typeof PauseStepSchema>;
export type ApprovalStep = z.output<typeof ApprovalStepSchema>;
export type Gate = (typeof GATES)[number];
export type RollbackMode = (typeof ROLLBACK_MODES)[number];
export type ApprovalRole = (typeof APPROVAL_ROLES)[number];

export const isWeightStep = (s: PlanStep): s is WeightStep => 'weight' in s;
export const isPauseStep = (s: PlanStep): s is PauseStep => 'pause' in s;
export const isApprovalStep = (s: PlanStep): s is ApprovalStep => 'approval' in s;

/**
 * The candidate's weight while the rollout is at step `index`: the weight of the last weight step
 * at or before it (pause and approval steps keep the weight they were reached at); 0 before any.
 */
export function weightAtStep(plan: RolloutPlan, index: number): number {
  for (let i = Math.min(index, plan.steps.length - 1); i >= 0; i--) {
    const step = plan.steps[i];
    if (step !== undefined && isWeightStep(step)) return step.weight;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Parsing and errors

/** `steps[1].weight` from a zod path. */
export function formatPlanPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(plan)' : out;
}

interface FlatIssue {
  path: PropertyKey[];
  message: string;
}

const STEP_KINDS = ['weight', 'pause', 'approval'] as const;
const STEP_FIELDS = new Set(['weight', 'hold', 'gates', 'pause', 'approval']);

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/**
 * zod reports a step that matches no branch as one opaque "invalid input"; pick the branch the
 * author meant (by the key they wrote) so the message names the real field.
 */
function flatten(issues: readonly z.core.$ZodIssue[], input: unknown, base: PropertyKey[] = []): FlatIssue[] {
  const out: FlatIssue[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union') {
      const value = valueAt(input, path);
      const kinds =
        value !== null && typeof value === 'object' && !Array.isArray(value)
          ? STEP_KINDS.filter((k) => k in (value as object))
          : [];
      const branch = kinds.length === 1 ? issue.errors[STEP_KINDS.indexOf(kinds[0]!)] : undefined;
      if (branch !== undefined) out.push(...flatten(branch, input, path));
      else if (kinds.length > 1)
        out.push({ path, message: `a step is exactly one of weight, pause or approval (found ${kinds.join(' and ')})` });
      else {
        const shape = 'a step is one of {weight: N, hold?, gates?}, {pause: {duration?}} or {approval: {role?}}';
        const unknown = value !== null && typeof value === 'object' ? Object.keys(value).filter((k) => !STEP_FIELDS.has(k)) : [];
        if (unknown.length === 0) out.push({ path, message: shape });
        for (const key of unknown) out.push({ path: [...path, key], message: `unknown field ${key} (${shape})` });
      }
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: `unknown field ${key}` });
      continue;
    }
    out.push({ path, message: issue.message });
  }
  return out;
}

function planError(where: string, issues: FlatIssue[], lineOf?: (path: PropertyKey[]) => number | undefined): Error {
  const details: ErrorDetail[] = issues.map((i) => {
    const line = lineOf?.(i.path);
    const field = formatPlanPath(i.path);
    return { where: `${where}${line !== undefined ? `:${line}` : ''} ${field}`, message: i.message };
  });
  const first = details[0];
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  return invalid(`invalid rollout plan ${first?.where ?? where}: ${first?.message ?? 'invalid'}${more}`, details);
}

/** Validate a plan that arrived as a value (an API body); `where` names it in errors. */
export function validatePlan(value: unknown, where = 'plan'): RolloutPlan {
  const result = RolloutPlanSchema.safeParse(value);
  if (result.success) return result.data;
  throw planError(where, flatten(result.error.issues, value));
}

function lineFinder(doc: Document, counter: LineCounter) {
  return (path: PropertyKey[]): number | undefined => {
    // The deepest node that exists on the path: a missing field is reported at its parent.
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) {
        // For a map entry, point at the key's line: that is where the author looks.
        return counter.linePos(node.range[0]).line;
      }
    }
    return undefined;
  };
}

/**
 * Parse a YAML rollout plan. Throws `invalid` naming `file`, the line when there is one, and the
 * field path (`steps[1].weight`) of every problem.
 */
export function parsePlan(text: string, file = 'rollout.yaml'): RolloutPlan {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const details = doc.errors.map((e) => ({
      where: `${file}:${counter.linePos(e.pos[0]).line}`,
      message: e.message.split('\n')[0] ?? e.message,
    }));
    throw invalid(`invalid rollout plan ${details[0]!.where}: not valid YAML: ${details[0]!.message}`, details);
  }
  const value: unknown = doc.toJS();
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalid(`invalid rollout plan ${file}: expected a mapping with agent, candidate and steps`, [
      { where: file, message: 'expected a mapping with agent, candidate and steps' },
    ]);
  const result = RolloutPlanSchema.safeParse(value);
  if (result.success) return result.data;
  throw planError(file, flatten(result.error.issues, value), lineFinder(doc, counter));
}

/** YAML for a plan; `parsePlan(serializePlan(p))` gives back `p`. */
export function serializePlan(plan: RolloutPlan): string {
  return stringify(plan, { lineWidth: 0 });
}
