/**
 * Robust location and scale for baselines: the median and the MAD (scaled to estimate σ for
 * normal data), so one spike in the reference window does not move the baseline. A floor on σ
 * keeps a flat baseline (an idle database, a constant ratio) from turning tiny noise into alarms.
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
  center: number;
  /** max(MAD·1.4826, floor). */
  sigma: number;
  /** The MAD-based σ before the floor, for the report. */
  rawSigma: number;
  floored: boolean;
  size: number;
}

export function robustBaseline(values: readonly number[], floor: SigmaFloor): RobustBaseline {
  const center = median(values);
  const rawSigma = MAD_TO_SIGMA * mad(values, center);
  const minimum = Math.max(floor.relative * Math.abs(center), floor.absolute);
  const floored = !(rawSigma >= minimum);
  return { center, sigma: floored ? minimum : rawSigma, rawSigma, floored, size: values.length };
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Population standard deviation (as numpy's default, which Otava reports). */
export function stddev(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  let sum = 0;
  for (const v of values) sum += (v - m) * (v - m);
  return Math.sqrt(sum / values.length);
}
