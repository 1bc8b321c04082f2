/**
 * Commands in, events out. `decide` checks a command against the current state and answers
 * with the events to append (each of which `reduce` applies), or a SluiceError saying why not.
 * `tick` is the control loop's half: the events that time alone makes due. Both are pure: the
 * clock and the outside gates (`GateSignals`) are arguments.
 *
 * After a command's own events, `decide` appends whatever becomes due at once (an approved
 * approval step moves on to the next step right away), so one command leaves the rollout settled
 * and the server never needs a tick to finish a command's work.
 */
import { conflict, forbidden, invalid, notFound, type SluiceError } from '../errors/errors.js';
import { formatDuration, parseDuration } from './duration.js';
import { isPauseStep, isWeightStep, validatePlan } from './plan.js';
import { ineligibleApprovers, isDuplicate, pendingApprovalStep, reduce } from './reducer.js';
import {
  SYSTEM_ACTOR,
  VERDICTS,
  hasRole,
  isTerminal,
  type GateSignals,
  type RolloutCommand,
  type RolloutEvent,
  type RolloutEventBody,
  type RolloutState,
} from './state.js';

export type RolloutDecision =
  | { ok: true; events: RolloutEvent[]; /** the requestId was applied before: nothing to do */ duplicate: boolean }
  | { ok: false; error: SluiceError };

/** Upper bound on events one tick emits; a plan's steps bound it well below this. */
const MAX_SETTLE = 1000;

const ms = (iso: string) => Date.parse(iso);

function stepName(state: RolloutState): string {
  return state.stepIndex < 0 ? 'the start' : `step ${state.stepIndex + 1} of ${state.plan.steps.length}`;
}

/** The event that is due now by time and gates, if any. */
function dueEvent(state: RolloutState, now: number, signals: GateSignals): { body: RolloutEventBody; reason: string } | undefined {
  const { plan } = state;
  if (state.status === 'progressing') {
    const current = plan.steps[state.stepIndex];
    if (current !== undefined && isWeightStep(current)) {
      const hold = current.hold === undefined ? 0 : (parseDuration(current.hold) ?? 0);
      const held = now - ms(state.stepStartedAt ?? new Date(now).toISOString());
      if (held < hold) return undefined;
      const gates = current.gates ?? [];
      if (gates.includes('analysis') && state.analysisPassedStep !== state.stepIndex) return undefined;
      if (gates.includes('window') && signals.windowOpen !== true) return undefined;
      const why = [current.hold !== undefined ? `hold ${current.hold} elapsed` : undefined, ...gates.map((g) => (g === 'analysis' ? 'analysis passed' : 'window open'))]
        .filter(Boolean)
        .join(', ');
      return nextStep(state, why || `step ${state.stepIndex + 1} done`);
    }
    // -1 (just started), a resumed pause or an approved approval: the next step is due now.
    return nextStep(state, state.stepIndex < 0 ? 'started' : state.approvals.some((a) => a.step === state.stepIndex) ? 'approved' : 'resumed');
  }
  if (state.status === 'paused' && state.pause?.kind === 'plan' && state.pause.until !== null && now >= ms(state.pause.until)) {
    const step = plan.steps[state.stepIndex];
    const duration = step !== undefined && isPauseStep(step) ? step.pause.duration : undefined;
    return { body: { type: 'resumed' }, reason: `pause${duration ? ` of ${duration}` : ''} over` };
  }
  if (state.status === 'rolling-back' && state.rollback !== null) {
    if (state.rollback.inFlight === 0) return { body: { type: 'drained', forced: false }, reason: 'no canary session left in flight' };
    const timeout = plan.rollback.drainTimeout === undefined ? undefined : parseDuration(plan.rollback.drainTimeout);
    if (timeout !== undefined && now - ms(state.rollback.requestedAt) >= timeout)
      return {
        body: { type: 'drained', forced: true },
        reason: `drain timeout ${formatDuration(timeout)} reached with ${state.rollback.inFlight ?? 'an unknown number of'} canary sessions in flight`,
      };
  }
  return undefined;
}

/** The event that enters the step after the current one (or completes the rollout). */
function nextStep(state: RolloutState, why: string): { body: RolloutEventBody; reason: string } {
  const index = state.stepIndex + 1;
  const step = state.plan.steps[index];
  if (step === undefined) return { body: { type: 'promoted', manual: false }, reason: `all steps complete (${why})` };
  if (isWeightStep(step)) return { body: { type: 'step-advanced', step: index, weight: step.weight }, reason: why };
  if (isPauseStep(step)) return { body: { type: 'paused', kind: 'plan', step: index }, reason: `plan pause (${why})` };
  return {
    body: { type: 'approval-requested', step: index, role: step.approval.role, requestedBy: state.startedBy ?? state.createdBy },
    reason: `approval by ${step.approval.role} required (${why})`,
  };
}

/** Events due by `now` and gates, each applied before the next is computed. */
function settle(state: RolloutState, now: string, signals: GateSignals, idFor: (n: number) => string): RolloutEvent[] {
  const events: RolloutEvent[] = [];
  const t = ms(now);
  let s = state;
  for (let n = 0; n < MAX_SETTLE; n++) {
    const due = dueEvent(s, t, signals);
    if (due === undefined) break;
    const event = { ...due.body, requestId: idFor(n), at: now, actor: SYSTEM_ACTOR, reason: due.reason } as RolloutEvent;
    const next = reduce(s, event);
    if (next === s) break; // cannot happen for a well-formed state; never loop on it
    events.push(event);
    s = next;
  }
  return events;
}

/**
 * Events due by time alone at `now`: holds elapsed with their gates open, plan pauses whose
 * duration is over, drains finished or timed out. Their requestIds derive from the rollout and
 * its version, so two loops ticking the same state emit the same ids and the second is a no-op.
 */
export function tick(state: RolloutState, now: string, signals: GateSignals = {}): RolloutEvent[] {
  if (!Number.isFinite(ms(now))) return [];
  const base = `${state.id}:tick:${state.version}`;
  return settle(state, now, signals, (n) => (n === 0 ? base : `${base}.${n}`));
}

const refuse = (error: SluiceError): RolloutDecision => ({ ok: false, error });

/**
 * Validate `command` against `state` (undefined: no such rollout yet) at time `now` (ISO) and
 * answer with the events to append, or an error:
 * - `not-found` when the rollout does not exist (or `create` names no plan);
 * - `conflict` when the command does not apply in the current status;
 * - `forbidden` when the four-eyes rule or an approval role refuses the actor;
 * - `invalid` for malformed input.
 * A command whose requestId was already applied answers `{ok: true, events: [], duplicate: true}`.
 */
export function decide(state: RolloutState | undefined, command: RolloutCommand, now: string, signals: GateSignals = {}): RolloutDecision {
  if (!Number.isFinite(ms(now))) return refuse(invalid(`not a time: ${now}`, [{ where: 'now', message: 'expected an ISO 8601 time' }]));
  if (typeof command.requestId !== 'string' || command.requestId === '')
    return refuse(invalid('a command needs a requestId', [{ where: 'requestId', message: 'required for idempotency' }]));
  if (typeof command.actor !== 'string' || command.actor === '')
    return refuse(invalid('a command needs an actor', [{ where: 'actor', message: 'required' }]));
  if (state !== undefined && isDuplicate(state, command.requestId)) return { ok: true, events: [], duplicate: true };

  const meta = { requestId: command.requestId, at: now, actor: command.actor, ...(command.reason ? { reason: command.reason } : {}) };

  if (command.type === 'create') {
    if (state !== undefined) return refuse(conflict(`rollout ${state.id} already exists`, [{ where: 'rolloutId', message: 'choose another id' }]));
    if (typeof command.rolloutId !== 'string' || command.rolloutId === '')
      return refuse(invalid('a rollout needs an id', [{ where: 'rolloutId', message: 'required' }]));
    // The log must only ever hold plans the schema accepts: replay trusts them.
    try {
      validatePlan(command.plan, 'plan');
    } catch (e) {
      return refuse(e as SluiceError);
    }
    const created = { ...meta, type: 'created', rolloutId: command.rolloutId, plan: command.plan, baseline: command.baseline } as const;
    if (command.baseline !== null && command.baseline === command.plan.candidate)
      return refuse(invalid(`candidate ${command.plan.candidate} is already serving`, [{ where: 'candidate', message: 'nothing to roll out' }]));
    return { ok: true, events: [created], duplicate: false };
  }
  if (state === undefined) return refuse(notFound('no such rollout'));

  const cannot = (what: string) =>
    refuse(conflict(`cannot ${what}: rollout ${state.id} is ${state.status}${state.status === 'progressing' ? ` at ${stepName(state)}` : ''}`, [
      { where: `rollout ${state.id}`, message: `status ${state.status}` },
    ]));

  let body: RolloutEventBody;
  switch (command.type) {
    case 'start':
      if (state.status !== 'pending') return cannot('start');
      body = { type: 'started' };
      break;
    case 'pause':
      if (state.status !== 'progressing') return cannot('pause');
      body = { type: 'paused', kind: 'manual' };
      break;
    case 'resume':
      if (state.status !== 'paused') return cannot('resume');
      body = { type: 'resumed' };
      break;
    case 'approve': {
      if (state.status !== 'awaiting-approval' || state.approval === null) return cannot('approve');
      const { approval } = state;
      if (ineligibleApprovers(state).has(command.actor))
        return refuse(
          forbidden(`four-eyes rule: ${command.actor} created, started or requested this rollout; someone else must approve`, [
            { where: `steps[${approval.step}].approval`, message: `requested by ${approval.requestedBy}` },
          ]),
        );
      if (command.roles !== undefined && !hasRole(command.roles, approval.role))
        return refuse(
          forbidden(`approving step ${approval.step + 1} needs the ${approval.role} role`, [
            { where: `steps[${approval.step}].approval.role`, message: `${command.actor} has ${command.roles.join(', ') || 'no roles'}` },
          ]),
        );
      body = { type: 'approved', step: approval.step };
      break;
    }
    case 'promote': {
      if (state.status !== 'pending' && state.status !== 'progressing' && state.status !== 'paused' && state.status !== 'awaiting-approval')
        return cannot('promote');
      const pending = pendingApprovalStep(state);
      if (pending !== undefined)
        return refuse(
          conflict(`cannot promote past the approval at step ${pending + 1}: approve it first`, [
            { where: `steps[${pending}].approval`, message: 'not approved yet' },
          ]),
        );
      body = { type: 'promoted', manual: true };
      break;
    }
    case 'verdict': {
      if (state.status === 'pending' || isTerminal(state.status)) return cannot('record an analysis verdict');
      if (!(VERDICTS as readonly string[]).includes(command.verdict))
        return refuse(invalid(`unknown verdict ${String(command.verdict)}`, [{ where: 'verdict', message: 'pass, fail, inconclusive or nodata' }]));
      const onRegression = command.onRegression ?? state.plan.analysis?.onRegression ?? 'rollback';
      const step = command.step ?? state.stepIndex;
      const verdictEvent = { ...meta, type: 'analysis-verdict', verdict: command.verdict, onRegression, step, ...(command.details !== undefined ? { details: command.details } : {}) } as const;
      const events: RolloutEvent[] = [verdictEvent];
      let s = reduce(state, verdictEvent);
      // A proven regression acts at once: roll back (the plan's mode) or pause for a person.
      if (command.verdict === 'fail') {
        const reason = `analysis found a regression${command.reason ? `: ${command.reason}` : ''}`;
        const act: RolloutEvent | undefined =
          onRegression === 'rollback' && ['progressing', 'paused', 'awaiting-approval'].includes(s.status)
            ? { requestId: `${command.requestId}.1`, at: now, actor: command.actor, reason, type: 'rollback-requested', mode: state.plan.rollback.mode }
            : onRegression === 'pause' && s.status === 'progressing'
              ? { requestId: `${command.requestId}.1`, at: now, actor: command.actor, reason, type: 'paused', kind: 'analysis' }
              : undefined;
        if (act !== undefined) {
          events.push(act);
          s = reduce(s, act);
        }
      }
      const offset = events.length;
      events.push(...settle(s, now, signals, (n) => `${command.requestId}.${n + offset}`));
      return { ok: true, events, duplicate: false };
    }
    case 'rollback': {
      const mode = command.mode ?? state.plan.rollback.mode;
      if (mode !== 'drain' && mode !== 'hard') return refuse(invalid(`unknown rollback mode ${String(mode)}`, [{ where: 'mode', message: 'drain or hard' }]));
      const escalate = state.status === 'rolling-back' && mode === 'hard';
      if (!escalate && state.status !== 'progressing' && state.status !== 'paused' && state.status !== 'awaiting-approval')
        return state.status === 'pending' ? refuse(conflict(`rollout ${state.id} has not started: abort it instead`)) : cannot('roll back');
      body = { type: 'rollback-requested', mode };
      break;
    }
    case 'drain-progress':
      if (!Number.isSafeInteger(command.inFlight) || command.inFlight < 0)
        return refuse(invalid(`inFlight must be a whole number ≥ 0, got ${String(command.inFlight)}`, [{ where: 'inFlight', message: 'count of canary sessions' }]));
      if (state.status !== 'rolling-back') return cannot('report drain progress');
      body = { type: 'drain-progress', inFlight: command.inFlight };
      break;
    case 'drained':
      if (state.status !== 'rolling-back') return cannot('finish draining');
      body = { type: 'drained', forced: false };
      break;
    case 'abort':
      if (isTerminal(state.status)) return cannot('abort');
      body = { type: 'aborted' };
      break;
    default: {
      const unknown: never = command;
      return refuse(invalid(`unknown command ${String((unknown as { type: unknown }).type)}`, [{ where: 'type', message: 'not a rollout command' }]));
    }
  }
  const event = { ...body, ...meta } as RolloutEvent;
  const after = reduce(state, event);
  if (after === state) return cannot(command.type); // guards above mirror the reducer; this keeps them honest
  return { ok: true, events: [event, ...settle(after, now, signals, (n) => `${command.requestId}.${n + 1}`)], duplicate: false };
}
