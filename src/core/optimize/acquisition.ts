/**
 * Expected improvement, in log space so it never underflows: far from the incumbent EI is
 * ~1e-300 or less, and log-EI still ranks such points correctly (Ament et al., NeurIPS 2023).
 * Everything here minimizes; the caller negates values for maximization.
 */
import type { FittedGp } from "./gp";
import { logH } from "./special";

/** log EI(x) = log σ + log h((best − μ)/σ), on the GP's standardized scale. */
export function logExpectedImprovement(gp: FittedGp, x: ArrayLike<number>, best: number): number {
  const { mean, variance } = gp.predictStandardized(x);
  const sigma = Math.sqrt(variance);
  return Math.log(sigma) + logH((best - mean) / sigma);
}

/**
 * The incumbent EI improves on: the lowest posterior mean at an observed point. With noisy
 * measurements the lowest raw value is often luck; the posterior mean discounts it.
 */
export function incumbent(gp: FittedGp): number {
  const means = gp.trainingMeans();
  let best = Infinity;
  for (const m of means) best = Math.min(best, m);
  return best;
}
