/**
 * Monotone warping of the objective before the GP sees it: standardize, then a Yeo–Johnson
 * power transform with λ fitted by maximum likelihood (Yeo & Johnson, Biometrika 2000).
 *
 * Why: benchmark and database objectives have heavy tails (a few configs are terrible). A
 * stationary GP explains such outliers with tiny length scales and then models nothing well.
 * Squashing the tail keeps the fit smooth. The transform is monotone, so the optimum is the
 * same; HEBO (Cowen-Rivers et al., JAIR 2022) showed the same effect on the Bayesmark suite.
 */
export const YEO_JOHNSON_LAMBDA_RANGE = [-2, 4] as const;

export interface OutputTransform {
  readonly lambda: number;
  forward(y: number): number;
  inverse(t: number): number;
}

export function yeoJohnson(z: number, lambda: number): number {
  if (z >= 0) return Math.abs(lambda) < 1e-9 ? Math.log1p(z) : (Math.pow(z + 1, lambda) - 1) / lambda;
  return Math.abs(lambda - 2) < 1e-9 ? -Math.log1p(-z) : -(Math.pow(1 - z, 2 - lambda) - 1) / (2 - lambda);
}

export function yeoJohnsonInverse(t: number, lambda: number): number {
  if (t >= 0) return Math.abs(lambda) < 1e-9 ? Math.expm1(t) : Math.pow(lambda * t + 1, 1 / lambda) - 1;
  return Math.abs(lambda - 2) < 1e-9 ? -Math.expm1(-t) : 1 - Math.pow(1 - (2 - lambda) * t, 1 / (2 - lambda));
}

/** Profile log-likelihood of λ: normal fit to the transformed values plus the Jacobian. */
export function yeoJohnsonLogLikelihood(z: ArrayLike<number>, lambda: number): number {
  const n = z.length;
  let mean = 0;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = yeoJohnson(z[i]!, lambda);
    mean += t[i]!;
  }
  mean /= n;
  let variance = 0;
  let jacobian = 0;
  for (let i = 0; i < n; i++) {
    variance += (t[i]! - mean) ** 2;
    jacobian += Math.sign(z[i]!) * Math.log1p(Math.abs(z[i]!));
  }
  variance /= n;
  if (!(variance > 0) || !Number.isFinite(variance)) return -Infinity;
  return -0.5 * n * Math.log(variance) + (lambda - 1) * jacobian;
}

/** Golden-section search for the maximum-likelihood λ (the profile likelihood is unimodal in practice). */
function fitLambda(z: ArrayLike<number>): number {
  let [a, b] = YEO_JOHNSON_LAMBDA_RANGE as readonly [number, number];
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = yeoJohnsonLogLikelihood(z, c);
  let fd = yeoJohnsonLogLikelihood(z, d);
  for (let i = 0; i < 60 && b - a > 1e-6; i++) {
    if (fc > fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = yeoJohnsonLogLikelihood(z, c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = yeoJohnsonLogLikelihood(z, d);
    }
  }
  return (a + b) / 2;
}

/** Fits standardize→Yeo–Johnson on `values`; identity when there are too few distinct values. */
export function fitOutputTransform(values: ArrayLike<number>): OutputTransform {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= Math.max(n, 1);
  let v = 0;
  for (let i = 0; i < n; i++) v += (values[i]! - mean) ** 2;
  const std = Math.sqrt(v / Math.max(n - 1, 1));
  if (n < 3 || !(std > 0)) return { lambda: 1, forward: (y) => y, inverse: (t) => t };
  const z = Float64Array.from({ length: n }, (_, i) => (values[i]! - mean) / std);
  const lambda = fitLambda(z);
  return {
    lambda,
    forward: (y) => yeoJohnson((y - mean) / std, lambda),
    inverse: (t) => mean + std * yeoJohnsonInverse(t, lambda),
  };
}
