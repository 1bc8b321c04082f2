/**
 * What a rollout is waiting for, for `sluice rollout status` and the control loop's scheduling:
 * the loop can sleep until `timerEndsAt` instead of polling, and a person can see which gate
 * holds a step.
 */
import { parseDuration } from './duration.js';
import { isWeightStep } from './plan.js';
import type { GateSignals, RolloutState } from './state.js';

export type WaitingFor = 'start' | 'hold' | 'analysis' | 'window' | 'resume' | 'approval' | 'drain';

export interface RolloutProgress {
  /** Every condition still unmet before the rollout moves on; empty when terminal or due now. */
  waitingFor: WaitingFor[];
  /** When the running timer ends: the step's hold, a timed pause, a drain's timeout; else null. */
  timerEndsAt: string | null;
}

const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

export function rolloutProgress(state: RolloutState, now: string, signals: GateSignals = {}): RolloutProgress {
  const { plan } = state;
  switch (state.status) {
    case 'pending':
      return { waitingFor: ['start'], timerEndsAt: null };
    case 'progressing': {
      const step = plan.steps[state.stepIndex];
      if (step === undefined || !isWeightStep(step) || state.stepStartedAt === null) return { waitingFor: [], timerEndsAt: null };
      const waitingFor: WaitingFor[] = [];
      const hold = step.hold === undefined ? 0 : (parseDuration(step.hold) ?? 0);
      const holdEnds = plus(state.stepStartedAt, hold);
      if (Date.parse(now) < Date.parse(holdEnds)) waitingFor.push('hold');
      if (step.gates?.includes('analysis') && state.analysisPassedStep !== state.stepIndex) waitingFor.push('analysis');
      if (step.gates?.includes('window') && signals.windowOpen !== true) waitingFor.push('window');
      return { waitingFor, timerEndsAt: waitingFor.includes('hold') ? holdEnds : null };
    }
    case 'paused':
      return { waitingFor: ['resume'], timerEndsAt: state.pause?.until ?? null };
    case 'awaiting-approval':
      return { waitingFor: ['approval'], timerEndsAt: null };
    case 'rolling-back': {
      const timeout = plan.rollback.drainTimeout === undefined ? undefined : parseDuration(plan.rollback.drainTimeout);
      const requestedAt = state.rollback?.requestedAt;
      return { waitingFor: ['drain'], timerEndsAt: timeout !== undefined && requestedAt !== undefined ? plus(requestedAt, timeout) : null };
    }
    default:
      return { waitingFor: [], timerEndsAt: null };
  }
}
