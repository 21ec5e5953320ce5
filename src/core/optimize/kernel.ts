/**
 * Matérn 5/2 covariance with one length scale per input dimension (ARD):
 *   k(x, x') = σ_f² (1 + √5 r + 5r²/3) exp(−√5 r),   r² = Σ_d ((x_d − x'_d)/ℓ_d)²
 * (Rasmussen & Williams, "Gaussian Processes for Machine Learning", eq. 4.17).
 */
const SQRT5 = Math.sqrt(5);

export interface MaternParams {
  /** ℓ_d, one per input coordinate. */
  readonly lengthScales: Float64Array;
  /** σ_f². */
  readonly signalVariance: number;
}

/** Matérn 5/2 as a function of the scaled distance r. */
export function matern52(r: number, signalVariance: number): number {
  const s = SQRT5 * r;
  return signalVariance * (1 + s + (s * s) / 3) * Math.exp(-s);
}

export function scaledDistance(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number, inverseLengthScales: Float64Array): number {
  let r2 = 0;
  for (let d = 0; d < inverseLengthScales.length; d++) {
    const diff = (a[aOffset + d]! - b[bOffset + d]!) * inverseLengthScales[d]!;
    r2 += diff * diff;
  }
  return Math.sqrt(r2);
}

export function kernel(params: MaternParams, a: ArrayLike<number>, b: ArrayLike<number>): number {
  const inv = params.lengthScales.map((l) => 1 / l);
  return matern52(scaledDistance(a, 0, b, 0, inv), params.signalVariance);
}
