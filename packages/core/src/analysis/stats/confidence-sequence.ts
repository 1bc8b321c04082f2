/**
 * Asymptotic confidence sequences (CS): intervals that hold at every sample size at once, so
 * the analysis may look after every session without inflating the error rate.
 *
 * Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas, "Time-uniform central limit theory and
 * asymptotic confidence sequences" (Annals of Statistics, 2024; arXiv:2103.06476), Theorem 2.2
 * (the Gaussian-mixture asymptotic CS): for the mean of t observations with standard deviation
 * σ̂_t, with probability ≥ 1 − α (asymptotically), for all t at once,
 *
 *     μ ∈ μ̂_t ± σ̂_t · sqrt( (2(tρ² + 1) / (t²ρ²)) · log( sqrt(tρ² + 1) / α ) ).
 *
 * ρ > 0 sets the sample size at which the boundary is tightest. Their §B.2 (after Howard et al.
 * 2021, "Time-uniform, nonparametric, nonasymptotic confidence sequences", eq. 3.8) gives the
 * ρ that minimises the width at t = t*:
 *
 *     ρ = sqrt( (−2 log α + log(−2 log α + 1)) / t* ).
 *
 * For canary − baseline (their §3, randomised experiments), the unit of time is a session of
 * either cohort, t = n_c + n_b, and the per-unit variance of the (augmented inverse-propensity)
 * difference estimator with cohort means as the outcome model and the observed split as the
 * propensity is σ̂² = t·(s_c²/n_c + s_b²/n_b); its mean is the difference of cohort means. We
 * plug in current estimates rather than predictable ones, which is asymptotically equivalent.
 */

/** ρ that makes the CS tightest at t* observations (Howard et al. 2021, eq. 3.8). */
export function rhoFor(plannedSamples: number, alpha: number): number {
  const l = -2 * Math.log(alpha);
  return Math.sqrt((l + Math.log(l + 1)) / plannedSamples);
}

/**
 * Half-width of the Gaussian-mixture asymptotic CS for a mean after t observations with
 * standard deviation σ (Waudby-Smith et al., Theorem 2.2).
 */
export function csRadius(t: number, sigma: number, alpha: number, rho: number): number {
  if (!(t > 0)) return Infinity;
  const tr2 = t * rho * rho;
  return sigma * Math.sqrt(((2 * (tr2 + 1)) / (t * t * rho * rho)) * Math.log(Math.sqrt(tr2 + 1) / alpha));
}

/** Mean, variance and count of one cohort's observations of a metric. */
export interface Moments {
  n: number;
  mean: number;
  /** variance of one observation */
  variance: number;
}

export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
  /** half-width */
  radius: number;
  /** sessions of both cohorts (the CS's time) */
  t: number;
  /** per-unit standard deviation used */
  sigma: number;
}

/** Anytime-valid (1 − α) CS for canary.mean − baseline.mean, time t = n_c + n_b. */
export function differenceCs(baseline: Moments, canary: Moments, alpha: number, plannedSamples: number): Interval {
  const t = baseline.n + canary.n;
  const v = canary.variance / canary.n + baseline.variance / baseline.n;
  const sigma = Math.sqrt(t * v);
  const estimate = canary.mean - baseline.mean;
  const radius = csRadius(t, sigma, alpha, rhoFor(plannedSamples, alpha));
  return { estimate, lower: estimate - radius, upper: estimate + radius, radius, t, sigma };
}

/** Anytime-valid (1 − α) CS for one cohort's mean (used for SLOs on the canary). */
export function meanCs(m: Moments, alpha: number, plannedSamples: number): Interval {
  const sigma = Math.sqrt(m.variance);
  const radius = csRadius(m.n, sigma, alpha, rhoFor(plannedSamples, alpha));
  return { estimate: m.mean, lower: m.mean - radius, upper: m.mean + radius, radius, t: m.n, sigma };
}
