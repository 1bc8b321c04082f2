/**
 * The rollout's state, the events that change it and the commands people and the control loop
 * send. The control plane persists events (an append-only log); the state is always
 * `replay(log)`. Commands go through `decide` (./decide.ts), which validates them against the
 * state and answers with the events to append, or an error.
 */
import type { JsonValue } from '../canonical/canonical-json.js';
import type { ApprovalRole, RollbackMode, RolloutPlan } from './plan.js';

/** The actor of events the control plane emits by itself (time passed, a drain finished). */
export const SYSTEM_ACTOR = 'sluice';

export const ROLLOUT_STATUSES = [
  'pending', // created, not started: serves nothing
  'progressing', // at step `stepIndex`, candidate weight `weight`
  'paused', // by a plan step, a person, or an analysis regression with onRegression: pause
  'awaiting-approval', // at an approval step: waits for a person other than the requester
  'promoted', // the candidate serves everything
  'rolling-back', // new units go to the baseline; in-flight canary sessions drain
  'rolled-back', // the baseline serves everything
  'aborted', // stopped by a person; the baseline serves everything at once
] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

/** Nothing leaves these: a new attempt is a new rollout. */
export const TERMINAL_STATUSES: readonly RolloutStatus[] = ['promoted', 'rolled-back', 'aborted'];
export const isTerminal = (status: RolloutStatus): boolean => TERMINAL_STATUSES.includes(status);
/** Statuses in which the candidate may receive traffic at `weight`. */
export const ACTIVE_STATUSES: readonly RolloutStatus[] = ['progressing', 'paused', 'awaiting-approval'];

/** The analysis's verdicts (the same union as the analysis module's `Verdict`). */
export const VERDICTS = ['pass', 'fail', 'inconclusive', 'nodata'] as const;
export type RolloutVerdict = (typeof VERDICTS)[number];
export type OnRegression = 'rollback' | 'pause';
export type PauseKind = 'plan' | 'manual' | 'analysis';

/**
 * Roles a token carries (DESIGN.md "Interfaces"), lowest first; each includes those before it.
 * `agent` sits between viewer and operator: what an agent's own token needs to send telemetry and
 * ask for approvals. Telemetry moves rollouts (the analysis acts on it), so a read-only viewer
 * must not write it; and an agent must not start or roll back rollouts, so it is not an operator.
 */
export const ROLES = ['viewer', 'agent', 'operator', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const hasRole = (roles: readonly Role[], required: Role): boolean =>
  roles.some((r) => ROLES.indexOf(r) >= ROLES.indexOf(required));

export interface PauseInfo {
  kind: PauseKind;
  since: string;
  /** Plan pause with a duration: when it resumes by itself. */
  until: string | null;
  /** Time already held at the current step before the pause; a pause does not count as hold. */
  heldMs: number;
}

export interface ApprovalRequest {
  step: number;
  role: ApprovalRole;
  /** The person whose change this is: the approver must be someone else. */
  requestedBy: string;
  requestedAt: string;
}

export interface ApprovalRecord extends ApprovalRequest {
  approvedBy: string;
  approvedAt: string;
}

export interface VerdictRecord {
  verdict: RolloutVerdict;
  onRegression: OnRegression;
  /** Step the verdict was computed at; a verdict for an older step does not open a gate. */
  step: number;
  at: string;
}

export interface RollbackInfo {
  mode: RollbackMode;
  requestedAt: string;
  requestedBy: string;
  reason?: string;
  /** Canary units still in flight as last reported by the gateways; null until a report. */
  inFlight: number | null;
  /** Drained by timeout rather than by the last session finishing. */
  forced?: boolean;
}

export interface RolloutState {
  id: string;
  agent: string;
  /** Release serving before the rollout; null for an agent's first release. */
  baseline: string | null;
  candidate: string;
  plan: RolloutPlan;
  status: RolloutStatus;
  /**
   * Index of the current plan step; -1 before the first. While `progressing` at a step that is
   * not a weight step (-1 just started, a pause that was resumed, an approval that was granted)
   * the step's condition is met and the next step is due at once.
   */
  stepIndex: number;
  /** Percent of new units on the candidate (mirrored, for shadow). */
  weight: number;
  /** When the hold clock at this step started, moved forward by any time spent paused. */
  stepStartedAt: string | null;
  /** Step at which the analysis last passed; opens an `analysis` gate at that step only. */
  analysisPassedStep: number | null;
  lastVerdict: VerdictRecord | null;
  pause: PauseInfo | null;
  approval: ApprovalRequest | null;
  approvals: ApprovalRecord[];
  rollback: RollbackInfo | null;
  createdAt: string;
  createdBy: string;
  startedAt: string | null;
  startedBy: string | null;
  endedAt: string | null;
  updatedAt: string;
  /** Reason given with the last event that had one. */
  lastReason: string | null;
  /** Number of events applied. */
  version: number;
  /** requestIds of every applied event: applying one again is a no-op. */
  applied: string[];
}

// ---------------------------------------------------------------------------------------------
// Events: what happened. Every event carries who, when, optionally why, and a unique requestId.

export interface EventMeta {
  /** Unique per event; the idempotency key. Events from one command share its id as a prefix. */
  requestId: string;
  /** ISO 8601 time. */
  at: string;
  actor: string;
  reason?: string;
}

export type RolloutEventBody =
  | { type: 'created'; rolloutId: string; plan: RolloutPlan; baseline: string | null }
  | { type: 'started' }
  /** Enters weight step `step`; `weight` is that step's weight, repeated for the log's reader. */
  | { type: 'step-advanced'; step: number; weight: number }
  /** `plan` enters pause step `step`; `manual` and `analysis` pause the current step. */
  | { type: 'paused'; kind: PauseKind; step?: number }
  | { type: 'resumed' }
  /** Enters approval step `step`. */
  | { type: 'approval-requested'; step: number; role: ApprovalRole; requestedBy: string }
  | { type: 'approved'; step: number }
  /** `manual`: a person skipped the remaining steps; otherwise the last step completed. */
  | { type: 'promoted'; manual: boolean }
  | {
      type: 'analysis-verdict';
      verdict: RolloutVerdict;
      onRegression: OnRegression;
      step: number;
      /** The numbers behind the verdict, as the analysis reports them. */
      details?: JsonValue;
    }
  | { type: 'rollback-requested'; mode: RollbackMode }
  | { type: 'drain-progress'; inFlight: number }
  | { type: 'drained'; forced: boolean }
  | { type: 'aborted' };

export type RolloutEvent = RolloutEventBody & EventMeta;
export type RolloutEventType = RolloutEvent['type'];
export type EventOf<T extends RolloutEventType> = Extract<RolloutEvent, { type: T }>;

// ---------------------------------------------------------------------------------------------
// Commands: what someone asks for. `decide` turns a command into events or refuses it.

export interface CommandMeta {
  /** Idempotency key chosen by the client: a command sent twice is applied once. */
  requestId: string;
  actor: string;
  reason?: string;
  /** The actor's roles, when the caller knows them: an approval step may require one. */
  roles?: Role[];
}

export type RolloutCommandBody =
  /** `baseline`: the release serving the agent now, or the plan's own; null for a first release. */
  | { type: 'create'; rolloutId: string; plan: RolloutPlan; baseline: string | null }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'approve' }
  | { type: 'promote' }
  | { type: 'verdict'; verdict: RolloutVerdict; onRegression?: OnRegression; step?: number; details?: JsonValue }
  /** Without a mode, the plan's `rollback.mode`. */
  | { type: 'rollback'; mode?: RollbackMode }
  | { type: 'drain-progress'; inFlight: number }
  | { type: 'drained' }
  | { type: 'abort' };

export type RolloutCommand = RolloutCommandBody & CommandMeta;
export type RolloutCommandType = RolloutCommand['type'];

/** Inputs from outside the rollout that gates read. */
export interface GateSignals {
  /** A maintenance window is open for this agent now (the `window` gate). */
  windowOpen?: boolean;
}
