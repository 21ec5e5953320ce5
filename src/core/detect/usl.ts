/**
 * Gunther's Universal Scalability Law, fitted by nonlinear least squares:
 *
 *   X(N) = λN / (1 + σ(N − 1) + κN(N − 1))
 *
 * λ: throughput of one client, σ: contention (serialization), κ: coherency (crosstalk).
 * Levenberg–Marquardt with Marquardt's diagonal scaling (κ is often 10⁻⁵ while λ is 10³), an
 * analytic Jacobian, and the bounds λ > 0, 0 ≤ σ ≤ 1, κ ≥ 0 enforced by projection. The start
 * comes from Gunther's linearization: with λ fixed, N·λ/X − 1 = σ(N−1) + κN(N−1) is linear.
 *
 * Tested against the R package usl (Moeding): its coef test data give σ = κ = 0.02, λ = 1; the
 * SPEC SDM91 data from Gunther's "Guerrilla Capacity Planning" give a peak at N* ≈ 96.52 (nls fit)
 * and σ = 1.705e-2, κ = 7.892e-5 by the linearization with λ = X(1) (the package's old README).
 */

export interface UslPoint {
  concurrency: number;
  throughput: number;
}

export interface UslModel {
  lambda: number;
  sigma: number;
  kappa: number;
}

export interface UslFit extends UslModel {
  /** Root mean squared residual, in throughput units. */
  rmse: number;
  /** Coefficient of determination. */
  r2: number;
  /** N* = √((1 − σ)/κ): where throughput peaks (Infinity when κ = 0). */
  peak_concurrency: number;
  iterations: number;
  points: number;
}

export interface UslFitOptions {
  /** Hold λ at this value (the R package's old normalization by X(1)); fitted when absent. */
  fixedLambda?: number;
  maxIterations?: number;
}

export function uslThroughput(model: UslModel, n: number): number {
  return (model.lambda * n) / (1 + model.sigma * (n - 1) + model.kappa * n * (n - 1));
}

/** (observed − predicted) / predicted: negative when the system does worse than its own curve. */
export function uslDeviation(model: UslModel, point: UslPoint): number {
  const predicted = uslThroughput(model, point.concurrency);
  return (point.throughput - predicted) / predicted;
}

export function peakConcurrency(model: UslModel): number {
  return model.kappa > 0 ? Math.sqrt((1 - model.sigma) / model.kappa) : Number.POSITIVE_INFINITY;
}

function sumOfSquares(points: readonly UslPoint[], model: UslModel): number {
  let sum = 0;
  for (const p of points) {
    const r = p.throughput - uslThroughput(model, p.concurrency);
    sum += r * r;
  }
  return sum;
}

function project(model: UslModel, lambdaFloor: number): UslModel {
  return {
    lambda: Math.max(model.lambda, lambdaFloor),
    sigma: Math.min(Math.max(model.sigma, 0), 1),
    kappa: Math.max(model.kappa, 0),
  };
}

/** Solve A x = b (small dense system) by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    if (Math.abs(m[pivot]![col]!) < 1e-300) return null;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let r = col + 1; r < n; r++) {
      const f = m[r]![col]! / m[col]![col]!;
      for (let c = col; c <= n; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!;
    for (let c = r + 1; c < n; c++) s -= m[r]![c]! * x[c]!;
    x[r] = s / m[r]![r]!;
  }
  return x;
}

/**
 * Gunther's linearization (Guerrilla Capacity Planning, ch. 5; the R usl package's method before
 * 2.0): with λ given (default: the best per-client throughput), N·λ/X − 1 = σ(N−1) + κN(N−1) is
 * linear in σ and κ. Used as the start of the nonlinear fit.
 */
export function linearizedUsl(points: readonly UslPoint[], fixedLambda?: number): UslModel {
  const lambda = fixedLambda ?? points.reduce((max, p) => Math.max(max, p.throughput / p.concurrency), -Infinity);
  // y = Nλ/X − 1 = σ·a + κ·b with a = N − 1, b = N(N − 1)
  let saa = 0;
  let sab = 0;
  let sbb = 0;
  let say = 0;
  let sby = 0;
  for (const p of points) {
    const a = p.concurrency - 1;
    const b = p.concurrency * (p.concurrency - 1);
    const y = (p.concurrency * lambda) / p.throughput - 1;
    saa += a * a;
    sab += a * b;
    sbb += b * b;
    say += a * y;
    sby += b * y;
  }
  const x = solve(
    [
      [saa, sab],
      [sab, sbb],
    ],
    [say, sby],
  );
  return project({ lambda, sigma: x?.[0] ?? 0, kappa: x?.[1] ?? 0 }, 1e-12);
}

export function fitUsl(points: readonly UslPoint[], options: UslFitOptions = {}): UslFit {
  if (points.length < 3) throw new RangeError("a USL fit needs at least 3 points");
  for (const p of points) {
    if (!(p.concurrency >= 1) || !(p.throughput > 0)) throw new RangeError("USL points need concurrency ≥ 1 and throughput > 0");
  }
  const fitLambda = options.fixedLambda === undefined;
  const lambdaFloor = 1e-12;
  let model = linearizedUsl(points, options.fixedLambda);
  let cost = sumOfSquares(points, model);
  let damping = 1e-3;
  const maxIterations = options.maxIterations ?? 500;
  let iterations = 0;

  for (; iterations < maxIterations; iterations++) {
    // Normal equations JᵀJ δ = Jᵀr over the free parameters [λ?, σ, κ].
    const size = fitLambda ? 3 : 2;
    const jtj = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    const jtr = new Array<number>(size).fill(0);
    for (const p of points) {
      const n = p.concurrency;
      const denominator = 1 + model.sigma * (n - 1) + model.kappa * n * (n - 1);
      const f = (model.lambda * n) / denominator;
      const r = p.throughput - f;
      const dSigma = (-model.lambda * n * (n - 1)) / (denominator * denominator);
      const dKappa = dSigma * n;
      const gradient = fitLambda ? [n / denominator, dSigma, dKappa] : [dSigma, dKappa];
      for (let i = 0; i < size; i++) {
        jtr[i]! += gradient[i]! * r;
        for (let j = 0; j < size; j++) jtj[i]![j]! += gradient[i]! * gradient[j]!;
      }
    }
    let improved = false;
    while (damping < 1e16) {
      const damped = jtj.map((row, i) => row.map((v, j) => (i === j ? v * (1 + damping) + 1e-300 : v)));
      const step = solve(damped, jtr);
      if (!step) {
        damping *= 10;
        continue;
      }
      const [dl, ds, dk] = fitLambda ? step : [0, ...step];
      const candidate = project({ lambda: model.lambda + dl!, sigma: model.sigma + ds!, kappa: model.kappa + dk! }, lambdaFloor);
      const candidateCost = sumOfSquares(points, candidate);
      if (candidateCost < cost) {
        const relative = (cost - candidateCost) / Math.max(cost, 1e-300);
        model = candidate;
        cost = candidateCost;
        damping = Math.max(damping / 10, 1e-12);
        improved = relative > 1e-15;
        break;
      }
      damping *= 10;
    }
    if (!improved) break;
  }

  const meanThroughput = points.reduce((s, p) => s + p.throughput, 0) / points.length;
  const totalSquares = points.reduce((s, p) => s + (p.throughput - meanThroughput) ** 2, 0);
  return {
    ...model,
    rmse: Math.sqrt(cost / points.length),
    r2: totalSquares > 0 ? 1 - cost / totalSquares : 1,
    peak_concurrency: peakConcurrency(model),
    iterations,
    points: points.length,
  };
}
