/**
 * Latency distributions from two moments: each statement's window latency is modelled as a
 * lognormal with the window's mean and standard deviation, and the workload's statement latency
 * as the calls-weighted mixture of those lognormals. Quantiles of the mixture come from
 * bisection on its CDF (in log space, so microseconds and minutes get the same relative precision).
 *
 * Why lognormal: latencies are positive and right-skewed, a multiplicative process (cache hit or
 * miss, lock wait, a slower plan) produces roughly lognormal times, and the moment fit is closed
 * form. Among the two-moment families that are usual here (gamma, lognormal) the lognormal has
 * the heavier tail for the same mean and variance, which errs on the side of a higher p99 rather
 * than hiding a tail. A statement with a zero spread (one call, or identical times) is a point mass.
 */

/** Φ⁻¹ at the percentiles pg2une reports, to 16 digits. */
export const Z_P50 = 0;
export const Z_P95 = 1.6448536269514722;
export const Z_P99 = 2.3263478740408408;

/**
 * Complementary error function, Chebyshev fit from Numerical Recipes (erfcc), fractional error
 * below 1.2e-7 everywhere: ample for percentile estimates (the inputs are far noisier).
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** Φ⁻¹(p) by bisection on Φ; precise to ~1e-7 in p (the accuracy of erfc). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability must be in (0, 1), got ${p}`);
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** A lognormal by its log-space parameters; sigma 0 is a point mass at e^mu. */
export interface LogNormal {
  mu: number;
  sigma: number;
}

/**
 * Spread beyond which a fit stops meaning anything (sd = 1000 × mean). Real statement windows
 * stay far below; the cap only keeps degenerate inputs (a mean near 0 with a large sd, possible
 * after float rounding of tiny windows) from turning into infinities.
 */
export const MAX_COEFFICIENT_OF_VARIATION = 1000;

/** The lognormal with the given mean and standard deviation (mean > 0, sd ≥ 0). */
export function lognormalFromMoments(mean: number, sd: number): LogNormal {
  if (!(mean > 0)) throw new RangeError(`lognormal mean must be > 0, got ${mean}`);
  const cv = Math.min(MAX_COEFFICIENT_OF_VARIATION, Math.max(0, sd) / mean);
  const sigma2 = Math.log1p(cv * cv);
  return { mu: Math.log(mean) - sigma2 / 2, sigma: Math.sqrt(sigma2) };
}

export function lognormalCdf(d: LogNormal, x: number): number {
  if (x <= 0) return 0;
  if (d.sigma === 0) return Math.log(x) >= d.mu ? 1 : 0;
  return normalCdf((Math.log(x) - d.mu) / d.sigma);
}

export function lognormalQuantile(d: LogNormal, z: number): number {
  return Math.exp(d.mu + d.sigma * z);
}

/** One statement of the mixture: its share of calls and its latency distribution. */
export interface MixtureComponent {
  weight: number;
  dist: LogNormal;
  /** The component's own mean (for the mixture mean without integrating). */
  mean: number;
}

/** Components with weights normalized to 1; zero-weight and zero-mean ones dropped. */
export interface Mixture {
  components: MixtureComponent[];
  mean: number;
}

/**
 * The calls-weighted mixture of per-statement lognormals. A statement whose window mean is 0
 * (faster than the clock's resolution) is a point mass at the smallest positive time seen.
 */
export function buildMixture(statements: ReadonlyArray<{ calls: number; meanMs: number; stddevMs: number }>): Mixture | undefined {
  const live = statements.filter((s) => s.calls > 0 && Number.isFinite(s.meanMs) && s.meanMs >= 0);
  const total = live.reduce((sum, s) => sum + s.calls, 0);
  if (total <= 0) return undefined;
  const floor = Math.min(...live.map((s) => (s.meanMs > 0 ? s.meanMs : Infinity)));
  const tiny = Number.isFinite(floor) ? floor : 1e-6;
  const components = live.map((s) => {
    const mean = s.meanMs > 0 ? s.meanMs : tiny;
    return { weight: s.calls / total, dist: lognormalFromMoments(mean, s.meanMs > 0 ? s.stddevMs : 0), mean };
  });
  return { components, mean: components.reduce((m, c) => m + c.weight * c.mean, 0) };
}

export function mixtureCdf(m: Mixture, x: number): number {
  let p = 0;
  for (const c of m.components) p += c.weight * lognormalCdf(c.dist, x);
  return p;
}

/** Standard deviations of log-space covered when bracketing a quantile (Φ(−9) ≈ 1e-19). */
const BRACKET_Z = 9;
const BISECTION_STEPS = 200;
/** Relative precision of a quantile. */
const QUANTILE_REL_TOL = 1e-9;

/** The smallest x with mixture CDF ≥ p, by bisection in log space. */
export function mixtureQuantile(m: Mixture, p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability must be in (0, 1), got ${p}`);
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of m.components) {
    lo = Math.min(lo, c.dist.mu - BRACKET_Z * c.dist.sigma);
    hi = Math.max(hi, c.dist.mu + BRACKET_Z * c.dist.sigma);
  }
  // Widen by a hair so a point mass sits strictly inside the bracket.
  lo -= 1e-9;
  hi += 1e-9;
  for (let i = 0; i < BISECTION_STEPS && hi - lo > QUANTILE_REL_TOL; i++) {
    const mid = (lo + hi) / 2;
    if (mixtureCdf(m, Math.exp(mid)) < p) lo = mid;
    else hi = mid;
  }
  return Math.exp(hi);
}
