/**
 * log Γ(x) for x > 0: Stirling's series for x ≥ 10 (error < 1e-16 relative), shifted by the
 * recurrence Γ(x+1) = xΓ(x) below that. Used by the Dirichlet–multinomial SRM test.
 */
export function logGamma(x: number): number {
  if (!(x > 0)) return NaN;
  let shift = 0;
  while (x < 10) {
    shift += Math.log(x);
    x += 1;
  }
  const x2 = 1 / (x * x);
  const series = (1 / 12 - x2 * (1 / 360 - x2 * (1 / 1260 - x2 * (1 / 1680 - x2 / 1188)))) / x;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series - shift;
}

/** log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b). */
export const logBeta = (a: number, b: number): number => logGamma(a) + logGamma(b) - logGamma(a + b);
