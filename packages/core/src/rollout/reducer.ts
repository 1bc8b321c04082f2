/**
 * The rollout reducer: `(state, event) → state`, pure and total.
 *
 * `decide` only ever produces events that apply, so in normal operation every event changes the
 * state. The reducer still checks each event against the state, because it also rebuilds state
 * from a stored log: an event that does not apply (a duplicate requestId, a transition the
 * status does not allow, a step out of order) returns the very same state object, so
 * `reduce(s, e) === s` tells the caller it was ignored. It never throws.
 */
import { invalid } from '../errors/errors.js';
import { parseDuration } from './duration.js';
import { isApprovalStep, isPauseStep, isWeightStep, weightAtStep } from './plan.js';
import {
  SYSTEM_ACTOR,
  isTerminal,
  type EventOf,
  type RolloutEvent,
  type RolloutState,
} from './state.js';

const ms = (iso: string) => Date.parse(iso);
const addMs = (iso: string, delta: number) => new Date(ms(iso) + delta).toISOString();

/** True when an event with this requestId was already applied to `state`. */
export const isDuplicate = (state: RolloutState, requestId: string): boolean => state.applied.includes(requestId);

/** The state a `created` event starts. */
export function init(event: EventOf<'created'>): RolloutState {
  return {
    id: event.rolloutId,
    agent: event.plan.agent,
    baseline: event.baseline,
    candidate: event.plan.candidate,
    plan: event.plan,
    status: 'pending',
    stepIndex: -1,
    weight: 0,
    stepStartedAt: null,
    analysisPassedStep: null,
    lastVerdict: null,
    pause: null,
    approval: null,
    approvals: [],
    rollback: null,
    createdAt: event.at,
    createdBy: event.actor,
    startedAt: null,
    startedBy: null,
    endedAt: null,
    updatedAt: event.at,
    lastReason: event.reason ?? null,
    version: 1,
    applied: [event.requestId],
  };
}

/** People who may not approve this rollout: whoever created, started or asked for it. */
export function ineligibleApprovers(state: RolloutState): Set<string> {
  const out = new Set<string>([SYSTEM_ACTOR, state.createdBy]);
  if (state.startedBy !== null) out.add(state.startedBy);
  if (state.approval !== null) out.add(state.approval.requestedBy);
  return out;
}

/** Index of the first approval step at or after the current one that is not yet approved. */
export function pendingApprovalStep(state: RolloutState): number | undefined {
  const from = Math.max(state.stepIndex, 0);
  for (let i = from; i < state.plan.steps.length; i++) {
    const step = state.plan.steps[i]!;
    if (isApprovalStep(step) && !state.approvals.some((a) => a.step === i)) return i;
  }
  return undefined;
}

type Transition = (state: RolloutState, event: RolloutEvent) => RolloutState | undefined;


/** Each event's transition: the new state (without bookkeeping), or undefined if it does not apply. */
const transitions: { [T in RolloutEvent['type']]: (s: RolloutState, e: EventOf<T>) => RolloutState | undefined } = {
  created: () => undefined, // only `init` starts a rollout

  started: (s, e) =>
    s.status !== 'pending'
      ? undefined
      : { ...s, status: 'progressing', stepIndex: -1, weight: 0, stepStartedAt: e.at, startedAt: e.at, startedBy: e.actor },

  'step-advanced': (s, e) => {
    const step = s.plan.steps[e.step];
    if (s.status !== 'progressing' || e.step !== s.stepIndex + 1 || step === undefined || !isWeightStep(step)) return undefined;
    if (e.weight !== step.weight) return undefined;
    return { ...s, stepIndex: e.step, weight: step.weight, stepStartedAt: e.at, analysisPassedStep: null };
  },

  paused: (s, e) => {
    if (s.status !== 'progressing') return undefined;
    if (e.kind === 'plan') {
      const step = e.step === undefined ? undefined : s.plan.steps[e.step];
      if (e.step !== s.stepIndex + 1 || step === undefined || !isPauseStep(step)) return undefined;
      const duration = step.pause.duration === undefined ? undefined : parseDuration(step.pause.duration);
      return {
        ...s,
        status: 'paused',
        stepIndex: e.step,
        weight: weightAtStep(s.plan, e.step),
        stepStartedAt: e.at,
        analysisPassedStep: null,
        pause: { kind: 'plan', since: e.at, until: duration === undefined ? null : addMs(e.at, duration), heldMs: 0 },
      };
    }
    if (e.step !== undefined && e.step !== s.stepIndex) return undefined;
    const heldMs = Math.max(0, ms(e.at) - ms(s.stepStartedAt ?? e.at));
    return { ...s, status: 'paused', pause: { kind: e.kind, since: e.at, until: null, heldMs } };
  },

  resumed: (s, e) => {
    if (s.status !== 'paused' || s.pause === null) return undefined;
    const { kind, heldMs } = s.pause;
    return {
      ...s,
      status: 'progressing',
      pause: null,
      // A plan pause is over once resumed; a manual or analysis pause continues the step's hold
      // where it stopped, so pausing never shortens a hold.
      stepStartedAt: kind === 'plan' ? e.at : addMs(e.at, -heldMs),
      // After a regression paused it, the step must pass analysis again before it advances.
      analysisPassedStep: kind === 'analysis' ? null : s.analysisPassedStep,
    };
  },

  'approval-requested': (s, e) => {
    const step = s.plan.steps[e.step];
    if (s.status !== 'progressing' || e.step !== s.stepIndex + 1 || step === undefined || !isApprovalStep(step)) return undefined;
    if (e.role !== step.approval.role) return undefined;
    return {
      ...s,
      status: 'awaiting-approval',
      stepIndex: e.step,
      weight: weightAtStep(s.plan, e.step),
      stepStartedAt: e.at,
      analysisPassedStep: null,
      approval: { step: e.step, role: e.role, requestedBy: e.requestedBy, requestedAt: e.at },
    };
  },

  approved: (s, e) => {
    if (s.status !== 'awaiting-approval' || s.approval === null || e.step !== s.approval.step) return undefined;
    if (ineligibleApprovers(s).has(e.actor)) return undefined; // four eyes
    return {
      ...s,
      status: 'progressing',
      approval: null,
      approvals: [...s.approvals, { ...s.approval, approvedBy: e.actor, approvedAt: e.at }],
      stepStartedAt: e.at,
    };
  },

  promoted: (s, e) => {
    if (e.manual) {
      if (s.status !== 'pending' && s.status !== 'progressing' && s.status !== 'paused' && s.status !== 'awaiting-approval')
        return undefined;
      // Promoting skips steps, never an approval: that would undo the four-eyes rule.
      if (pendingApprovalStep(s) !== undefined) return undefined;
    } else if (s.status !== 'progressing' || s.stepIndex !== s.plan.steps.length - 1) return undefined;
    return { ...s, status: 'promoted', weight: 100, pause: null, approval: null, endedAt: e.at };
  },

  'analysis-verdict': (s, e) => {
    if (s.status === 'pending' || isTerminal(s.status)) return undefined;
    const record = { verdict: e.verdict, onRegression: e.onRegression, step: e.step, at: e.at };
    const opensGate = e.verdict === 'pass' && e.step === s.stepIndex && s.status === 'progressing';
    return { ...s, lastVerdict: record, analysisPassedStep: opensGate ? e.step : s.analysisPassedStep };
  },

  'rollback-requested': (s, e) => {
    const escalate = s.status === 'rolling-back' && e.mode === 'hard';
    if (!escalate && s.status !== 'progressing' && s.status !== 'paused' && s.status !== 'awaiting-approval') return undefined;
    const rollback = escalate
      ? { ...s.rollback!, mode: e.mode, forced: true }
      : { mode: e.mode, requestedAt: e.at, requestedBy: e.actor, inFlight: null, ...(e.reason ? { reason: e.reason } : {}) };
    if (e.mode === 'hard') return { ...s, status: 'rolled-back', weight: 0, pause: null, approval: null, rollback, endedAt: e.at };
    return { ...s, status: 'rolling-back', weight: 0, pause: null, approval: null, rollback };
  },

  'drain-progress': (s, e) => {
    if (s.status !== 'rolling-back' || s.rollback === null || !Number.isSafeInteger(e.inFlight) || e.inFlight < 0) return undefined;
    return { ...s, rollback: { ...s.rollback, inFlight: e.inFlight } };
  },

  drained: (s, e) => {
    if (s.status !== 'rolling-back' || s.rollback === null) return undefined;
    const rollback = e.forced ? { ...s.rollback, forced: true } : { ...s.rollback, inFlight: 0 };
    return { ...s, status: 'rolled-back', rollback, endedAt: e.at };
  },

  aborted: (s, e) =>
    isTerminal(s.status) ? undefined : { ...s, status: 'aborted', weight: 0, pause: null, approval: null, endedAt: e.at },
};

/** Apply one event. Returns `state` itself (same object) when the event does not apply. */
export function reduce(state: RolloutState, event: RolloutEvent): RolloutState {
  if (isDuplicate(state, event.requestId)) return state;
  const next = transition(state, event);
  return next === undefined ? state : withBookkeeping(next, state, event, [...state.applied, event.requestId]);
}

function transition(state: RolloutState, event: RolloutEvent): RolloutState | undefined {
  if (!Number.isFinite(ms(event.at))) return undefined;
  return (transitions[event.type] as Transition)(state, event);
}

function withBookkeeping(next: RolloutState, prev: RolloutState, event: RolloutEvent, applied: string[]): RolloutState {
  return { ...next, updatedAt: event.at, lastReason: event.reason ?? next.lastReason, version: prev.version + 1, applied };
}

/**
 * Rebuild a rollout from its event log. The log must begin with `created`. Equal to folding
 * `reduce` over the log, in linear time: the applied ids live in one Set and one array while
 * folding, instead of a copy per event.
 */
export function replay(events: readonly RolloutEvent[]): RolloutState {
  const [first, ...rest] = events;
  if (first === undefined || first.type !== 'created')
    throw invalid('a rollout event log begins with a created event', [
      { where: 'events[0]', message: first === undefined ? 'the log is empty' : `found ${first.type}` },
    ]);
  let state = init(first);
  const applied = [...state.applied];
  const seen = new Set(applied);
  for (const event of rest) {
    if (seen.has(event.requestId)) continue;
    const next = transition(state, event);
    if (next === undefined) continue;
    seen.add(event.requestId);
    applied.push(event.requestId);
    state = withBookkeeping(next, state, event, applied);
  }
  return { ...state, applied: [...applied] };
}
