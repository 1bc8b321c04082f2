/**
 * What other parts read from a rollout: the weight, and the gateway's view of it. The control
 * plane turns `routingView` into a `RolloutRoute` (../routing/config.ts) by adding the
 * candidate's deployment.
 */
import type { RolloutRoute } from '../routing/config.js';
import type { RolloutState, RolloutStatus } from './state.js';

/** Percent of new units the candidate gets now (mirrored, for shadow); 0 once rolled back. */
export const currentWeight = (state: RolloutState): number => state.weight;

export interface RoutingView extends Pick<RolloutRoute, 'id' | 'strategy' | 'unit' | 'weight' | 'intents' | 'rolledBack'> {
  agent: string;
  status: RolloutStatus;
  baseline: string | null;
  candidate: string;
  /**
   * Whether gateways need this rollout in their config: true while the candidate serves a share
   * (progressing, paused, awaiting approval) or canary sessions drain (rolling back).
   */
  active: boolean;
  /** Which release answers new units: both (split by weight), the baseline, or the candidate. */
  serving: 'split' | 'baseline' | 'candidate';
}

export function routingView(state: RolloutState): RoutingView {
  const { plan } = state;
  const base = {
    id: state.id,
    agent: state.agent,
    status: state.status,
    strategy: plan.strategy,
    unit: plan.unit,
    ...(plan.intents !== undefined ? { intents: plan.intents } : {}),
    baseline: state.baseline,
    candidate: state.candidate,
  };
  switch (state.status) {
    case 'pending':
      return { ...base, weight: 0, active: false, serving: 'baseline' };
    case 'progressing':
    case 'paused':
    case 'awaiting-approval':
      // Shadow mirrors a share to the candidate but only ever answers from the baseline.
      return { ...base, weight: state.weight, active: true, serving: plan.strategy === 'shadow' ? 'baseline' : 'split' };
    case 'promoted':
      return { ...base, weight: 100, active: false, serving: 'candidate' };
    case 'rolling-back':
      return { ...base, weight: 0, active: true, serving: 'baseline', rolledBack: { mode: state.rollback?.mode ?? 'drain' } };
    case 'rolled-back':
      return { ...base, weight: 0, active: false, serving: 'baseline', rolledBack: { mode: state.rollback?.mode ?? 'hard' } };
    case 'aborted':
      // Abort stops at once: nothing drains.
      return { ...base, weight: 0, active: false, serving: 'baseline', rolledBack: { mode: 'hard' } };
  }
}
