/**
 * Anytime-valid CS for the relative lift canary/baseline − 1, as GrowthBook computes it
 * ("sequential testing" in gbstats, `frequentist` engine): the delta-method variance of the
 * ratio of means,
 *
 *     Var = s_c² / (μ_b² n_c) + s_b² μ_c² / (μ_b⁴ n_b),
 *
 * scaled to per-unit s² = Var·N with N = n_b + n_c, inside the Waudby-Smith et al. Gaussian-mixture
 * boundary (confidence-sequence.ts) with ρ from GrowthBook's "tuning parameter" N* (the planned
 * total sample size). Reproduces GrowthBook's documented case: 1396/3000 vs 2422/3461 with
 * N* = 5000 and α = 0.05 gives (0.40098, 0.60675).
 */
import { csRadius, rhoFor, type Interval, type Moments } from './confidence-sequence.js';

export function relativeLiftCs(baseline: Moments, canary: Moments, alpha: number, plannedSamples: number): Interval {
  const mb = baseline.mean;
  const mc = canary.mean;
  const t = baseline.n + canary.n;
  const v = canary.variance / (mb * mb * canary.n) + (baseline.variance * mc * mc) / (mb ** 4 * baseline.n);
  const sigma = Math.sqrt(v * t);
  const estimate = mc / mb - 1;
  const radius = csRadius(t, sigma, alpha, rhoFor(plannedSamples, alpha));
  return { estimate, lower: estimate - radius, upper: estimate + radius, radius, t, sigma };
}
