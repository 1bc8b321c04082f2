/**
 * What must hold of every reachable rollout state. Tests run it after every event; the control
 * plane can run it after loading a state, to refuse to act on a corrupt one.
 */
import { failed } from '../errors/errors.js';
import { isApprovalStep, isPauseStep, weightAtStep } from './plan.js';
import { ACTIVE_STATUSES, ROLLOUT_STATUSES, SYSTEM_ACTOR, type RolloutState } from './state.js';

/** Every broken rule, empty when the state is sound. */
export function invariantViolations(s: RolloutState): string[] {
  const out: string[] = [];
  const check = (ok: boolean, message: string) => {
    if (!ok) out.push(message);
  };
  const steps = s.plan.steps.length;
  check(ROLLOUT_STATUSES.includes(s.status), `unknown status ${s.status}`);
  check(Number.isInteger(s.weight) && s.weight >= 0 && s.weight <= 100, `weight ${s.weight} outside 0..100`);
  check(Number.isInteger(s.stepIndex) && s.stepIndex >= -1 && s.stepIndex < steps, `step index ${s.stepIndex} outside -1..${steps - 1}`);
  check(s.version === s.applied.length, `version ${s.version} but ${s.applied.length} applied ids`);
  check(new Set(s.applied).size === s.applied.length, 'an event id was applied twice');

  if (ACTIVE_STATUSES.includes(s.status)) {
    check(s.weight === weightAtStep(s.plan, s.stepIndex), `weight ${s.weight} is not step ${s.stepIndex}'s ${weightAtStep(s.plan, s.stepIndex)}`);
    check(s.startedAt !== null && s.startedBy !== null, `${s.status} but never started`);
    check(s.stepStartedAt !== null, `${s.status} without a step start time`);
    check(s.endedAt === null, `${s.status} but ended`);
  }
  if (s.status === 'pending') check(s.stepIndex === -1 && s.weight === 0 && s.startedAt === null, 'pending but moved');
  if (s.status === 'paused') {
    check(s.pause !== null, 'paused without pause details');
    if (s.pause?.kind === 'plan') {
      const step = s.plan.steps[s.stepIndex];
      check(step !== undefined && isPauseStep(step), `plan pause at step ${s.stepIndex}, which is not a pause step`);
    }
  } else check(s.pause === null, `${s.status} with pause details`);
  if (s.status === 'awaiting-approval') {
    const step = s.plan.steps[s.stepIndex];
    check(step !== undefined && isApprovalStep(step), `awaiting approval at step ${s.stepIndex}, which is not an approval step`);
    check(s.approval !== null && s.approval.step === s.stepIndex, 'awaiting approval without a matching request');
  } else check(s.approval === null, `${s.status} with an open approval request`);

  // Four eyes: nobody approved their own change.
  for (const a of s.approvals) {
    check(a.approvedBy !== a.requestedBy && a.approvedBy !== s.createdBy && a.approvedBy !== SYSTEM_ACTOR, `step ${a.step} approved by ${a.approvedBy}, who may not approve it`);
    check(a.approvedBy !== s.startedBy, `step ${a.step} approved by the person who started the rollout`);
    const step = s.plan.steps[a.step];
    check(step !== undefined && isApprovalStep(step), `approval recorded for step ${a.step}, which is not an approval step`);
  }
  check(new Set(s.approvals.map((a) => a.step)).size === s.approvals.length, 'a step was approved twice');

  if (s.status === 'promoted') {
    check(s.weight === 100, `promoted at weight ${s.weight}`);
    check(
      s.plan.steps.every((step, i) => !isApprovalStep(step) || s.approvals.some((a) => a.step === i)),
      'promoted with an approval step never approved',
    );
  }
  if (s.status === 'rolling-back' || s.status === 'rolled-back') {
    check(s.rollback !== null, `${s.status} without rollback details`);
    check(s.weight === 0, `${s.status} at weight ${s.weight}`);
    if (s.rollback?.inFlight != null) check(Number.isInteger(s.rollback.inFlight) && s.rollback.inFlight >= 0, 'negative in-flight count');
  } else if (s.status !== 'aborted') check(s.rollback === null, `${s.status} with rollback details`);
  if (s.status === 'aborted') check(s.weight === 0, `aborted at weight ${s.weight}`);
  const terminal = s.status === 'promoted' || s.status === 'rolled-back' || s.status === 'aborted';
  check(terminal === (s.endedAt !== null), terminal ? `${s.status} without an end time` : `${s.status} with an end time`);
  return out;
}

/** Throws `failed` listing every broken rule. */
export function assertInvariant(state: RolloutState): void {
  const violations = invariantViolations(state);
  if (violations.length > 0)
    throw failed(`rollout ${state.id} is in an impossible state: ${violations[0]}`, violations.map((message) => ({ where: `rollout ${state.id}`, message })));
}
