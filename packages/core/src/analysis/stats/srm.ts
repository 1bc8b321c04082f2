/**
 * Sample-ratio-mismatch check: is the observed canary/baseline split consistent with the
 * router's weight? A mismatch means assignment or telemetry is broken (sessions lost on one
 * side, bots, crashes before the first span), and then no comparison can be trusted.
 *
 * Anytime-valid: Lindon & Malek, "Anytime-Valid Inference For Multinomial Count Data" (NeurIPS
 * 2022), the Dirichlet–multinomial Bayes factor against the expected split θ₀, here with two
 * cells (Beta–binomial):
 *
 *     BF = B(a + x_c, b + x_b) / B(a, b) / ( θ₀^x_c (1 − θ₀)^x_b ),   a = kθ₀, b = k(1 − θ₀),
 *
 * a nonnegative martingale under H₀, so P(BF ever ≥ 1/α) ≤ α (Ville's inequality) however often
 * it is checked; the always-valid p-value is min(1, 1/max BF). k (the prior concentration) is
 * 100: the prior's spread of the canary share is about ±0.1·sqrt(θ₀(1−θ₀)), enough to catch
 * the mismatches that matter (a few percent of sessions lost) within a few thousand sessions.
 */
import { logBeta } from './gamma.js';

export const SRM_PRIOR_CONCENTRATION = 100;

export interface SrmResult {
  baselineSessions: number;
  canarySessions: number;
  expectedCanaryShare: number;
  observedCanaryShare: number | null;
  /** log of the Bayes factor against the expected split at this look */
  logBayesFactor: number;
  /** always-valid p-value: min over looks of 1/BF (pass the previous look's to keep the minimum) */
  pValue: number;
  alpha: number;
  mismatch: boolean;
}

export function srmCheck(baselineSessions: number, canarySessions: number, expectedCanaryShare: number, alpha: number, previousP = 1): SrmResult {
  const th = expectedCanaryShare;
  const a = SRM_PRIOR_CONCENTRATION * th;
  const b = SRM_PRIOR_CONCENTRATION * (1 - th);
  const xc = canarySessions;
  const xb = baselineSessions;
  const logBf = logBeta(a + xc, b + xb) - logBeta(a, b) - (xc > 0 ? xc * Math.log(th) : 0) - (xb > 0 ? xb * Math.log(1 - th) : 0);
  const pValue = Math.min(previousP, 1, Math.exp(-logBf));
  const n = xc + xb;
  return {
    baselineSessions: xb,
    canarySessions: xc,
    expectedCanaryShare: th,
    observedCanaryShare: n > 0 ? xc / n : null,
    logBayesFactor: logBf,
    pValue,
    alpha,
    mismatch: pValue <= alpha,
  };
}
