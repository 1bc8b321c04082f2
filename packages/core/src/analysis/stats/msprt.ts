/**
 * Mixture sequential probability ratio test (mSPRT) for a difference of means, and its
 * always-valid p-value: Johari, Koomen, Pekelis & Walsh, "Always Valid Inference: Continuous
 * Monitoring of A/B Tests" (Operations Research 70(3), 2022), §4 with a normal mixing
 * distribution N(θ₀, τ²) over the difference θ. With Δ̂ = canary − baseline and
 * V = s_c²/n_c + s_b²/n_b (its variance),
 *
 *     Λ = sqrt( V / (V + τ²) ) · exp( τ² (Δ̂ − θ₀)² / (2 V (V + τ²)) ),
 *
 * Λ is a (super)martingale under H₀: θ = θ₀, so p_n = min(1, min_{m ≤ n} 1/Λ_m) is valid at any
 * stopping time. With τ² = σ̂²ρ² (σ̂² the per-unit variance of confidence-sequence.ts) the set
 * {θ₀ : 1/Λ > α} is exactly the Waudby-Smith et al. CS; the tests check that identity.
 */

/** 1/Λ for the current look (not yet minimised over past looks). */
export function msprtLikelihoodInverse(estimate: number, variance: number, tau2: number, theta0 = 0): number {
  if (!(variance > 0)) return estimate === theta0 ? 1 : 0;
  const d = estimate - theta0;
  const logLambda = 0.5 * Math.log(variance / (variance + tau2)) + (tau2 * d * d) / (2 * variance * (variance + tau2));
  return Math.min(1, Math.exp(-logLambda));
}

/** Always-valid p-value: the running minimum of 1/Λ (pass the previous look's p, or 1). */
export function alwaysValidP(previous: number, estimate: number, variance: number, tau2: number, theta0 = 0): number {
  return Math.min(previous, msprtLikelihoodInverse(estimate, variance, tau2, theta0));
}

/** The mSPRT's (1 − α) confidence interval at the current look (before intersecting over time). */
export function msprtInterval(estimate: number, variance: number, tau2: number, alpha: number): { lower: number; upper: number } {
  const h = Math.sqrt(((variance * (variance + tau2)) / tau2) * (Math.log((variance + tau2) / variance) - 2 * Math.log(alpha)));
  return { lower: estimate - h, upper: estimate + h };
}
