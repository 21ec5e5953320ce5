/**
 * The small statistics the rollout reports with: means, Student-t confidence intervals and
 * Welch's interval for a difference of means. Numerical code we own; the t quantile is checked
 * against published table values in test/core/rollout/statistics.test.ts.
 *
 * Why intervals at all: run-to-run noise of the same configuration is 3–21 % on this class of
 * machine (DESIGN.md, "Measuring under noise"), so a before/after difference means nothing
 * without the spread of the windows it came from.
 *
 * @example
 *   meanInterval([100, 104, 98, 101]); // { n: 4, mean: 100.75, sd: 2.5, halfWidth: 3.98, level: 0.95 }
 */
import { gammaln } from "simple-statistics";

/** Confidence level of every interval the rollout reports. */
export const CONFIDENCE_LEVEL = 0.95;

export interface MeanInterval {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); null below two values. */
  sd: number | null;
  /** Half-width of the two-sided interval around the mean; null below two values. */
  halfWidth: number | null;
  level: number;
}

export interface DifferenceInterval {
  /** b − a. */
  difference: number;
  /** Null when either side has fewer than two values. */
  halfWidth: number | null;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number | null;
  level: number;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

export function sampleVariance(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values);
  let s = 0;
  for (const v of values) s += (v - m) * (v - m);
  return s / (values.length - 1);
}

/** Regularized incomplete beta I_x(a, b) by its continued fraction (modified Lentz). */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(gammaln(a + b) - gammaln(a) - gammaln(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
  if (x > (a + 1) / (a + b + 2)) return 1 - regularizedIncompleteBeta(1 - x, b, a);
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    f *= d * c;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    f *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return (front * f) / a;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom (df may be fractional, as in Welch). */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t (bisection on the CDF; exact closed forms for df 1 and 2). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be positive, got ${df}`);
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Mean with its two-sided Student-t interval. */
export function meanInterval(values: readonly number[], level = CONFIDENCE_LEVEL): MeanInterval {
  const n = values.length;
  const variance = sampleVariance(values);
  if (variance === null) return { n, mean: mean(values), sd: null, halfWidth: null, level };
  const sd = Math.sqrt(variance);
  return { n, mean: mean(values), sd, halfWidth: studentTQuantile(0.5 + level / 2, n - 1) * (sd / Math.sqrt(n)), level };
}

/** Welch's interval for mean(b) − mean(a): unequal variances, Welch–Satterthwaite df. */
export function differenceInterval(a: readonly number[], b: readonly number[], level = CONFIDENCE_LEVEL): DifferenceInterval {
  const difference = mean(b) - mean(a);
  const va = sampleVariance(a);
  const vb = sampleVariance(b);
  if (va === null || vb === null) return { difference, halfWidth: null, df: null, level };
  const sa = va / a.length;
  const sb = vb / b.length;
  const se2 = sa + sb;
  if (se2 === 0) return { difference, halfWidth: 0, df: a.length + b.length - 2, level };
  const df = (se2 * se2) / ((sa * sa) / (a.length - 1) + (sb * sb) / (b.length - 1));
  return { difference, halfWidth: studentTQuantile(0.5 + level / 2, df) * Math.sqrt(se2), df, level };
}
