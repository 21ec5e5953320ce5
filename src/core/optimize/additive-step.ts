/**
 * The additive step: Add-GP-UCB's decoupled search (Kandasamy, Schneider & Póczos, "High
 * Dimensional Bayesian Optimisation and Bandits via Additive Models", ICML 2015), written for
 * minimization. The GP's first-order additive term gives each coordinate its own 1-D posterior
 * f_d; each is searched on its own over the coordinate's whole range for the lowest confidence
 * bound μ_d(u) − β·σ_d(u), and candidates take the incumbent with some coordinates moved to
 * those targets.
 *
 * Why: inside the trust region a coordinate that sits one ripple away from its optimum is never
 * moved (Levy-10: in 16 of 20 seeds one to six coordinates ended there, most of the regret). The
 * region's points all share that coordinate's value, so the full model cannot separate its
 * effect from the cluster's, and the box is too narrow to reach the next valley. The additive
 * component sees every observation's value of the coordinate, and its confidence bound is low
 * where the 1-D effect is predicted good or, as far as σ_d can tell, still unknown (σ_d also
 * carries the level the components share, so in smooth fits the bound mostly follows the mean;
 * see the README). Moving there is a jump the box forbids. log-EI of the full model still ranks
 * the candidates, so interactions count.
 *
 * @example
 *   const targets = additiveTargets(gp, numericCoordinates(space), space.width);
 *   if (targets) candidates.push(...additiveCandidates(centre, targets, rng, 50));
 */
import type { FittedGp } from "./gp";
import type { Rng } from "../random";

export const ADDITIVE_STEP = {
  /** Width of the confidence bound, in posterior standard deviations of the component. */
  beta: 2,
  /** Values of u searched per coordinate (a grid on [0, 1]; the components are 1-D and smooth). */
  gridPoints: 201,
  /** Each random candidate moves each coordinate to its target with this probability. */
  moveProbability: 0.3,
} as const;

/**
 * Per coordinate, the u ∈ [0, 1] minimizing μ_d(u) − β σ_d(u); NaN for coordinates not listed
 * (one-hot categoricals). Null when the model has no additive term.
 */
export function additiveTargets(gp: FittedGp, coordinates: readonly number[], width: number, beta: number = ADDITIVE_STEP.beta, gridPoints: number = ADDITIVE_STEP.gridPoints): Float64Array | null {
  const targets = new Float64Array(width).fill(NaN);
  for (const d of coordinates) {
    let bestU = 0;
    let bestBound = Infinity;
    for (let g = 0; g < gridPoints; g++) {
      const u = g / (gridPoints - 1);
      const component = gp.additiveComponent(d, u);
      if (!component) return null;
      const bound = component.mean - beta * Math.sqrt(component.variance);
      if (bound < bestBound) {
        bestBound = bound;
        bestU = u;
      }
    }
    targets[d] = bestU;
  }
  return targets;
}

/**
 * Candidates around `centre`: all targets at once, each target alone, then `randomCount` points
 * that move each coordinate to its target with probability ADDITIVE_STEP.moveProbability.
 */
export function additiveCandidates(centre: ArrayLike<number>, targets: Float64Array, rng: Rng, randomCount: number): Float64Array[] {
  const coordinates: number[] = [];
  targets.forEach((t, d) => {
    if (!Number.isNaN(t)) coordinates.push(d);
  });
  const out: Float64Array[] = [];
  const all = Float64Array.from(centre);
  for (const d of coordinates) all[d] = targets[d]!;
  out.push(all);
  for (const d of coordinates) {
    const one = Float64Array.from(centre);
    one[d] = targets[d]!;
    out.push(one);
  }
  for (let k = 0; k < randomCount; k++) {
    const x = Float64Array.from(centre);
    for (const d of coordinates) if (rng.uniform() < ADDITIVE_STEP.moveProbability) x[d] = targets[d]!;
    out.push(x);
  }
  return out;
}
