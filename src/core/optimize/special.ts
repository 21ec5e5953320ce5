/**
 * Special functions for expected improvement, accurate far into the tails where the naive
 * formulas underflow to 0 (and log(0) = −∞ would stall the acquisition search).
 */

const SQRT_PI = Math.sqrt(Math.PI);
const SQRT2 = Math.SQRT2;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Below this, erfc(x) is summed from the Taylor series of erf; above, a continued fraction. */
const ERFCX_SERIES_LIMIT = 2.5;

function erfSeries(x: number): number {
  // erf(x) = 2/√π · e^{−x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1)): all terms positive, no cancellation.
  let term = x;
  let sum = x;
  const x2 = x * x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return ((2 / SQRT_PI) * Math.exp(-x2)) * sum;
}

function erfcxContinuedFraction(x: number): number {
  // erfc(x) = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))), evaluated backwards.
  const depth = x < 5 ? 150 : x < 30 ? 60 : 20;
  let t = x;
  for (let k = depth; k >= 1; k--) t = x + k / 2 / t;
  return 1 / (SQRT_PI * t);
}

/** Scaled complementary error function erfcx(x) = e^{x²} erfc(x). */
export function erfcx(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 * Math.exp(x * x) - erfcx(-x);
  if (x < ERFCX_SERIES_LIMIT) return Math.exp(x * x) * (1 - erfSeries(x));
  return erfcxContinuedFraction(x);
}

/** Complementary error function. */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < ERFCX_SERIES_LIMIT) return 1 - erfSeries(x);
  return erfcxContinuedFraction(x) * Math.exp(-x * x);
}

/** Standard normal density. */
export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z - LOG_SQRT_2PI);
}

/** Standard normal cumulative distribution. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / SQRT2);
}

/** log(1 − eˣ) for x < 0, accurate on both ends (Mächler 2012). */
export function log1mexp(x: number): number {
  return x > -Math.LN2 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x));
}

/** 1/√ε: below −this, h(z) is its two-term asymptote to machine precision. */
const LOG_H_ASYMPTOTIC_LIMIT = 1 / Math.sqrt(Number.EPSILON);

/**
 * log h(z) with h(z) = φ(z) + zΦ(z), so that EI = σ·h((best − μ)/σ). Follows Ament et al.,
 * "Unexpected Improvements to Expected Improvement for Bayesian Optimization" (NeurIPS 2023),
 * eq. (9): direct for z > −1, through erfcx for the tail, asymptotic beyond −1/√ε.
 */
export function logH(z: number): number {
  if (z > -1) return Math.log(normalPdf(z) + z * normalCdf(z));
  if (z > -LOG_H_ASYMPTOTIC_LIMIT) {
    const c2 = 0.5 * Math.log(Math.PI / 2);
    return -0.5 * z * z - LOG_SQRT_2PI + log1mexp(Math.log(erfcx(-z / SQRT2) * -z) + c2);
  }
  return -0.5 * z * z - LOG_SQRT_2PI - 2 * Math.log(-z);
}
