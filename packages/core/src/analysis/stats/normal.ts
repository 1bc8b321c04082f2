/**
 * The standard normal distribution and the fixed-horizon tests built on it. These are the
 * building blocks; they are *not* valid under continuous monitoring (see
 * confidence-sequence.ts), and Sluice uses them only for reference figures and the bench's naive
 * comparison.
 */

const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** Standard normal density. */
export const normalPdf = (x: number): number => Math.exp(-0.5 * x * x) / SQRT_2PI;

/**
 * Upper tail Q(x) = P(Z > x), accurate to ~1e-15 relative in the tail.
 * |x| ≤ 3: Marsaglia's Taylor series, Φ(x) = ½ + φ(x)·(x + x³/3 + x⁵/(3·5) + …) (Marsaglia,
 * "Evaluating the Normal Distribution", J. Stat. Software 11(4), 2004).
 * |x| > 3: the Laplace continued fraction Q(x) = φ(x) / (x + 1/(x + 2/(x + 3/(x + …)))),
 * evaluated backwards from a fixed depth, which converges fast for x > 3.
 */
export function normalSf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < -3) return 1 - normalSf(-x);
  if (x <= 3) {
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let k = 3; k < 200; k += 2) {
      term *= x2 / k;
      const next = sum + term;
      if (next === sum) break;
      sum = next;
    }
    return 0.5 - normalPdf(x) * sum;
  }
  if (x > 40) return 0;
  let f = x;
  for (let k = 120; k >= 1; k--) f = x + k / f;
  return normalPdf(x) / f;
}

/** Φ(x) = P(Z ≤ x). */
export const normalCdf = (x: number): number => normalSf(-x);

/**
 * Φ⁻¹(p): Wichura's algorithm AS 241, PPND16 (Applied Statistics 37(3), 477–484, 1988),
 * about 1e-16 relative accuracy over (0, 1). ±Infinity at 0 and 1, NaN outside.
 */
/* eslint-disable no-loss-of-precision -- AS 241's coefficients are kept digit for digit as published; each rounds to the nearest double, as intended */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((2.5090809287301226727e3 * r + 3.3430575583588128105e4) * r + 6.7265770927008700853e4) * r + 4.5921953931549871457e4) * r + 1.3731693765509461125e4) * r +
          1.9715909503065514427e3) *
          r +
          1.3314166789178437745e2) *
          r +
          3.387132872796366608)) /
      (((((((5.226495278852854561e3 * r + 2.8729085735721942674e4) * r + 3.930789580009271061e4) * r + 2.1213794301586595867e4) * r + 5.3941960214247511077e3) * r +
        6.871870074920579083e2) *
        r +
        4.2313330701600911252e1) *
        r +
        1)
    );
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let x: number;
  if (r <= 5) {
    r -= 1.6;
    x =
      (((((((7.7454501427834140764e-4 * r + 2.27238449892691845833e-2) * r + 2.4178072517745061177e-1) * r + 1.27045825245236838258) * r + 3.64784832476320460504) * r +
        5.7694972214606914055) *
        r +
        4.6303378461565452959) *
        r +
        1.42343711074968357734) /
      (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 1.51986665636164571966e-2) * r + 1.4810397642748007459e-1) * r + 6.8976733498510000455e-1) * r +
        1.6763848301838038494) *
        r +
        2.05319162663775882187) *
        r +
        1);
  } else {
    r -= 5;
    x =
      (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 1.2426609473880784386e-3) * r + 2.6532189526576123093e-2) * r + 2.9656057182850489123e-1) * r +
        1.7848265399172913358) *
        r +
        5.4637849111641143699) *
        r +
        6.6579046435011037772) /
      (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r + 1.4875361290850614852e-2) * r +
        1.3692988092273580531e-1) *
        r +
        5.9983220655588793769e-1) *
        r +
        1);
  }
  return q < 0 ? -x : x;
}
/* eslint-enable no-loss-of-precision */

export interface ZTest {
  /** canary − baseline */
  difference: number;
  standardError: number;
  z: number;
  /** two-sided */
  pValue: number;
  /** two-sided (1 − α) fixed-horizon interval for the difference */
  lower: number;
  upper: number;
}

function zTest(difference: number, seTest: number, seInterval: number, alpha: number): ZTest {
  const z = seTest > 0 ? difference / seTest : difference === 0 ? 0 : Math.sign(difference) * Infinity;
  const h = normalQuantile(1 - alpha / 2) * seInterval;
  return { difference, standardError: seInterval, z, pValue: 2 * normalSf(Math.abs(z)), lower: difference - h, upper: difference + h };
}

/**
 * Two-proportion z-test of canary − baseline (pooled standard error for the test, unpooled
 * for the interval), the textbook fixed-horizon test.
 */
export function twoProportionZTest(baseline: { n: number; x: number }, canary: { n: number; x: number }, alpha = 0.05): ZTest {
  const pb = baseline.x / baseline.n;
  const pc = canary.x / canary.n;
  const pooled = (baseline.x + canary.x) / (baseline.n + canary.n);
  const seTest = Math.sqrt(pooled * (1 - pooled) * (1 / baseline.n + 1 / canary.n));
  const seInt = Math.sqrt((pb * (1 - pb)) / baseline.n + (pc * (1 - pc)) / canary.n);
  return zTest(pc - pb, seTest, seInt, alpha);
}

/** Welch-style large-sample z-test of a difference of means (sample variances, unpooled). */
export function twoMeanZTest(baseline: { n: number; mean: number; variance: number }, canary: { n: number; mean: number; variance: number }, alpha = 0.05): ZTest {
  const se = Math.sqrt(baseline.variance / baseline.n + canary.variance / canary.n);
  return zTest(canary.mean - baseline.mean, se, se, alpha);
}
