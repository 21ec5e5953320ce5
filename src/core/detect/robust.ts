/**
 * Robust location and scale for baselines: the median and the MAD (scaled to estimate σ for
 * normal data) flag outliers, so one spike in the reference window does not move the baseline. A
 * floor on σ keeps a flat baseline (an idle database, a constant ratio) from turning tiny noise
 * into alarms.
 */

/** 1 / Φ⁻¹(3/4): makes the MAD a consistent estimator of σ for normal data. */
export const MAD_TO_SIGMA = 1.482602218505602;

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median absolute deviation from the median (unscaled). */
export function mad(values: readonly number[], center = median(values)): number {
  return median(values.map((v) => Math.abs(v - center)));
}

/**
 * σ never goes below `relative · |median|` nor below `absolute`. Example: tps with relative 0.02
 * treats a baseline of 1000 tps as having σ ≥ 20 tps, so a 1 % wobble is never 3σ.
 */
export interface SigmaFloor {
  relative: number;
  absolute: number;
}

export interface RobustBaseline {
  /** Mean of the inliers. */
  center: number;
  /** max(σ of the inliers, floor). */
  sigma: number;
  /** σ before the floor, for the report. */
  raw_sigma: number;
  floored: boolean;
  size: number;
}

/** Points further than this many MAD-σ from the median are outliers of the reference window. */
export const OUTLIER_CUTOFF = 3;
/** SD of a standard normal truncated at ±3: dividing by it keeps the clipped SD consistent. */
const TRUNCATED_SD_AT_3 = 0.986647;

/**
 * Median and MAD find the outliers; the mean and SD of the remaining points are the baseline.
 * The MAD alone is robust but inefficient (its σ estimate from 30 points is off by ~20 %, which
 * halves a CUSUM's in-control ARL); the clipped mean/SD is nearly as efficient as the plain ones
 * and still ignores a spike in the reference window.
 */
export function robustBaseline(values: readonly number[], floor: SigmaFloor): RobustBaseline {
  const med = median(values);
  const madSigma = MAD_TO_SIGMA * mad(values, med);
  const inliers = madSigma > 0 ? values.filter((v) => Math.abs(v - med) <= OUTLIER_CUTOFF * madSigma) : [...values];
  const center = madSigma > 0 && inliers.length >= 2 ? mean(inliers) : med;
  const raw_sigma = madSigma > 0 && inliers.length >= 2 ? sampleStddev(inliers) / TRUNCATED_SD_AT_3 : madSigma;
  const minimum = Math.max(floor.relative * Math.abs(center), floor.absolute);
  const floored = !(raw_sigma >= minimum);
  return { center, sigma: floored ? minimum : raw_sigma, raw_sigma, floored, size: values.length };
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation (n − 1). */
export function sampleStddev(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  let sum = 0;
  for (const v of values) sum += (v - m) * (v - m);
  return Math.sqrt(sum / (values.length - 1));
}

/** Population standard deviation (as numpy's default, which Otava reports). */
export function stddev(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  let sum = 0;
  for (const v of values) sum += (v - m) * (v - m);
  return Math.sqrt(sum / values.length);
}
