/**
 * What a fixed-horizon test would have needed: the per-group sample size of a two-sided
 * two-proportion z-test (pooled variance under H0), the textbook formula
 *
 *   n = ( z(1−α/2)·√(2·p̄·(1−p̄)) + z(power)·√(p1(1−p1) + p2(1−p2)) )² / (p1 − p2)²,  p̄ = (p1+p2)/2
 *
 * rounded up. The demo compares the canary sessions the sequential analysis used with it.
 */
import { normalQuantile } from '@sluice/core';

export function fixedHorizonSessions(p1: number, p2: number, alpha = 0.05, power = 0.8): number {
  if (!(p1 > 0 && p1 < 1 && p2 > 0 && p2 < 1) || p1 === p2) throw new RangeError(`need two different proportions in (0, 1), got ${p1} and ${p2}`);
  const pbar = (p1 + p2) / 2;
  const a = normalQuantile(1 - alpha / 2) * Math.sqrt(2 * pbar * (1 - pbar));
  const b = normalQuantile(power) * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return Math.ceil((a + b) ** 2 / (p1 - p2) ** 2);
}
