/**
 * A TuRBO-style trust region (Eriksson et al., "Scalable Global Optimization via Local Bayesian
 * Optimization", NeurIPS 2019): the acquisition is maximized only inside a box around the
 * incumbent, whose side grows after a run of improvements and shrinks after a run of failures.
 *
 * Why: in 10 or more dimensions a GP fitted to a few dozen points is uncertain almost
 * everywhere, so expected improvement over the whole cube is largest far from the data, at the
 * cube's corners, and the search degrades to sampling the boundary (worse than random search on
 * a bowl-shaped objective). Inside the box the same model ranks candidates that are near what
 * already works.
 *
 * propose() is stateless (observations in, point out), so the box's side is not stored: it is
 * replayed from the observation history in order, exactly as TuRBO would have updated it.
 *
 * @example
 *   const state = replayTrustRegion(valuesInOrder, designSize, dimensions);
 *   const box = trustRegionBox(centre, state.length, lengthScales);
 */
export const TRUST_REGION = {
  /** Side of the box in unit-cube coordinates at the start and after a restart (TuRBO: 0.8). */
  initialLength: 0.8,
  /** Below this side the region restarts at initialLength (TuRBO: 0.5⁷). */
  minLength: 0.5 ** 7,
  /** The side never grows past this (TuRBO: 1.6, i.e. the whole cube from any centre). */
  maxLength: 1.6,
  /** Consecutive improvements that double the side (TuRBO: 3). */
  successTolerance: 3,
  /** A step improves when it beats the best so far by this fraction of |best| (TuRBO: 1e-3). */
  relativeImprovement: 1e-3,
} as const;

/** Consecutive failures that halve the side: TuRBO's max(4, D) for one point per step. */
export function failureTolerance(dimensions: number): number {
  return Math.max(4, dimensions);
}

export interface TrustRegionState {
  /** Current side length, unit-cube coordinates, before length-scale weighting. */
  length: number;
  successes: number;
  failures: number;
  /** How often the side fell below minLength and was reset. */
  restarts: number;
}

/**
 * Replays TuRBO's side-length updates over `values` (to be minimized, in the order observed).
 * The first `designSize` values only set the starting best: the region starts after them.
 */
export function replayTrustRegion(values: readonly number[], designSize: number, dimensions: number): TrustRegionState {
  const state: TrustRegionState = { length: TRUST_REGION.initialLength, successes: 0, failures: 0, restarts: 0 };
  const start = Math.min(Math.max(designSize, 1), values.length);
  let best = Infinity;
  for (let i = 0; i < start; i++) best = Math.min(best, values[i]!);
  const tolerance = failureTolerance(dimensions);
  for (let i = start; i < values.length; i++) {
    const v = values[i]!;
    if (v < best - TRUST_REGION.relativeImprovement * Math.abs(best)) {
      state.successes++;
      state.failures = 0;
    } else {
      state.failures++;
      state.successes = 0;
    }
    best = Math.min(best, v);
    if (state.successes >= TRUST_REGION.successTolerance) {
      state.length = Math.min(2 * state.length, TRUST_REGION.maxLength);
      state.successes = 0;
    } else if (state.failures >= tolerance) {
      state.length /= 2;
      state.failures = 0;
    }
    if (state.length < TRUST_REGION.minLength) {
      state.length = TRUST_REGION.initialLength;
      state.restarts++;
    }
  }
  return state;
}

export interface Box {
  lower: Float64Array;
  upper: Float64Array;
}

/** Mean of log ℓ_d over `coordinates` (the log of their geometric mean); 0 when there are none. */
export function meanLogLengthScale(lengthScales: readonly number[], coordinates: readonly number[]): number {
  let logMean = 0;
  for (const c of coordinates) logMean += Math.log(lengthScales[c]!);
  return logMean / Math.max(coordinates.length, 1);
}

/**
 * The box around `centre`: side length·w_d in coordinate d, where w_d = ℓ_d / geometric mean(ℓ)
 * (TuRBO's length-scale weighting: a direction the model finds irrelevant gets a wide side),
 * clipped to the unit cube. `coordinates` lists the numeric coordinates; the others (one-hot
 * categoricals) keep [0, 1].
 */
export function trustRegionBox(centre: ArrayLike<number>, length: number, lengthScales: readonly number[], coordinates: readonly number[]): Box {
  const lower = new Float64Array(centre.length);
  const upper = new Float64Array(centre.length).fill(1);
  const logMean = meanLogLengthScale(lengthScales, coordinates);
  for (const c of coordinates) {
    const half = (length * Math.exp(Math.log(lengthScales[c]!) - logMean)) / 2;
    lower[c] = Math.max(0, centre[c]! - half);
    upper[c] = Math.min(1, centre[c]! + half);
  }
  return { lower, upper };
}
