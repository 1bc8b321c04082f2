/**
 * The rollout plan the demo starts: a session-affine canary of 2.3.1 at a small weight, gated by
 * the analysis. Escalation rate is the metric that acts; error rate and latency p95 are reported
 * in dry run, so the whole α (0.05) goes to the one question the demo asks and the other two show
 * what the analysis sees without being able to stop the rollout.
 */
import { validatePlan, type RolloutPlan } from '@sluice/core';

export interface DemoPlanOptions {
  /** Percent of new sessions on the canary at the first step. */
  weight: number;
  /** How often the analysis closes a window, e.g. `1s`. */
  interval: string;
}

export function demoPlan(opts: DemoPlanOptions): RolloutPlan {
  return validatePlan(
    {
      agent: 'support-agent',
      baseline: 'support-agent@2.3.0',
      candidate: 'support-agent@2.3.1',
      description: 'sluice demo: canary of the 2.3.1 prompt change, judged on escalation rate',
      strategy: 'canary',
      unit: 'session',
      steps: [
        { weight: opts.weight, gates: ['analysis'] },
        { weight: 50, gates: ['analysis'] },
        { weight: 100 },
      ],
      analysis: {
        interval: opts.interval,
        consecutive: 3,
        alpha: 0.05,
        minSamples: 20,
        // Both cohorts together, where the intervals should be tightest: a few hundred sessions.
        plannedSamples: 500,
        metrics: [
          // Any proven rise in escalations is a regression: the canary may not be worse at all.
          { name: 'escalation_rate', tolerance: { absolute: 0 } },
          { name: 'error_rate', tolerance: { absolute: 0.01 }, dryRun: true },
          { name: 'latency_p95', tolerance: { relative: 0.5 }, dryRun: true },
        ],
        onRegression: 'rollback',
      },
      rollback: { mode: 'drain' },
    },
    'demo plan',
  );
}
