/**
 * Gaussian-process regression for Bayesian optimization: zero mean on standardized outputs,
 * Matérn 5/2 ARD kernel plus homoscedastic noise, hyperparameters by maximizing the log
 * marginal likelihood plus log priors (MAP), multi-start L-BFGS in log space.
 *
 * Priors (so a handful of points cannot produce a degenerate fit):
 *  - log ℓ_d ~ N(√2 + ½·log D, √3), the dimension-scaled prior of Hvarfner, Hellsten & Nardi,
 *    "Vanilla Bayesian Optimization Performs Great in High Dimensions" (ICML 2024);
 *  - log σ_f² ~ N(0, 1) (outputs are standardized, so σ_f² ≈ 1 is the natural scale);
 *  - log σ_n² ~ N(−4, 1), the noise prior BoTorch uses.
 * Each hyperparameter is also boxed (HYPERPARAMETER_BOUNDS) through a sigmoid, so L-BFGS
 * runs unconstrained.
 *
 * @example
 *   const gp = fitGp(points, values, { rng: createRng(1) });
 *   const { mean, variance } = gp.predict(point);   // in original units
 */
import { choleskyInverse, choleskyLogDet, cholesky, solveLower, solveUpper, type CholeskyFactor } from "./linalg";
import { matern52, matern52LengthScaleFactor } from "./kernel";
import { minimizeLbfgs } from "./lbfgs";
import type { Rng } from "../random";

export const HYPERPARAMETER_BOUNDS = {
  lengthScale: [0.1, 100],
  signalVariance: [0.01, 100],
  noiseVariance: [1e-6, 2],
} as const;

export const NOISE_PRIOR = { mean: -8, sd: 2 } as const;
export const SIGNAL_PRIOR = { mean: 0, sd: 1 } as const;
export const LENGTH_SCALE_PRIOR_SD = Math.sqrt(3);

export function lengthScalePriorMean(dimensions: number): number {
  return Math.SQRT2 + 0.5 * Math.log(dimensions);
}

export interface GpHyperparameters {
  lengthScales: number[];
  signalVariance: number;
  noiseVariance: number;
}

export interface FitOptions {
  rng: Rng;
  /** Random starts drawn from the priors, on top of the fixed starts. */
  randomRestarts?: number;
  /** Extra start, e.g. the previous fit's hyperparameters. */
  initial?: GpHyperparameters;
  maxIterations?: number;
}

export interface FittedGp {
  readonly hyperparameters: GpHyperparameters;
  /** Log marginal likelihood (standardized outputs) at the fitted hyperparameters. */
  readonly logMarginalLikelihood: number;
  readonly yMean: number;
  readonly yStd: number;
  /** Posterior of the latent function at x, in standardized units (no observation noise). */
  predictStandardized(x: ArrayLike<number>): { mean: number; variance: number };
  /** Same in original units. */
  predict(x: ArrayLike<number>): { mean: number; variance: number };
  /** Standardized posterior means at the training inputs. */
  trainingMeans(): Float64Array;
}

interface Data {
  n: number;
  p: number;
  /** Row-major n×p. */
  X: Float64Array;
  /** Standardized outputs. */
  y: Float64Array;
  /** Squared coordinate differences, [pair][d], for pairs i > j in row order. */
  sqDiff: Float64Array;
}

function prepare(points: ArrayLike<number>[], y: Float64Array): Data {
  const n = points.length;
  const p = points[0]?.length ?? 0;
  const X = new Float64Array(n * p);
  points.forEach((pt, i) => {
    for (let d = 0; d < p; d++) X[i * p + d] = pt[d]!;
  });
  const pairs = (n * (n - 1)) / 2;
  const sqDiff = new Float64Array(pairs * p);
  let k = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      for (let d = 0; d < p; d++) {
        const diff = X[i * p + d]! - X[j * p + d]!;
        sqDiff[k * p + d] = diff * diff;
      }
      k++;
    }
  }
  return { n, p, X, y, sqDiff };
}

/** θ = [log ℓ_1..p, log σ_f², log σ_n²] ↔ hyperparameters. */
function fromTheta(theta: ArrayLike<number>, p: number): GpHyperparameters {
  const lengthScales: number[] = [];
  for (let d = 0; d < p; d++) lengthScales.push(Math.exp(theta[d]!));
  return { lengthScales, signalVariance: Math.exp(theta[p]!), noiseVariance: Math.exp(theta[p + 1]!) };
}

function thetaBounds(p: number): { lo: Float64Array; hi: Float64Array } {
  const lo = new Float64Array(p + 2);
  const hi = new Float64Array(p + 2);
  for (let d = 0; d < p; d++) {
    lo[d] = Math.log(HYPERPARAMETER_BOUNDS.lengthScale[0]);
    hi[d] = Math.log(HYPERPARAMETER_BOUNDS.lengthScale[1]);
  }
  lo[p] = Math.log(HYPERPARAMETER_BOUNDS.signalVariance[0]);
  hi[p] = Math.log(HYPERPARAMETER_BOUNDS.signalVariance[1]);
  lo[p + 1] = Math.log(HYPERPARAMETER_BOUNDS.noiseVariance[0]);
  hi[p + 1] = Math.log(HYPERPARAMETER_BOUNDS.noiseVariance[1]);
  return { lo, hi };
}

function covariance(data: Data, h: GpHyperparameters, withNoise: boolean): { K: Float64Array; r: Float64Array } {
  const { n, p, sqDiff } = data;
  const inv2 = h.lengthScales.map((l) => 1 / (l * l));
  const K = new Float64Array(n * n);
  const r = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      let r2 = 0;
      for (let d = 0; d < p; d++) r2 += sqDiff[k * p + d]! * inv2[d]!;
      const dist = Math.sqrt(r2);
      r[k] = dist;
      const v = matern52(dist, h.signalVariance);
      K[i * n + j] = v;
      K[j * n + i] = v;
      k++;
    }
  }
  for (let i = 0; i < n; i++) K[i * n + i] = h.signalVariance + (withNoise ? h.noiseVariance : 0);
  return { K, r };
}

function logNormalPrior(x: number, mean: number, sd: number): { value: number; gradient: number } {
  const z = (x - mean) / sd;
  return { value: -0.5 * z * z, gradient: -z / sd };
}

/**
 * Log marginal likelihood + log prior and its gradient w.r.t. θ (R&W eq. 5.8 and 5.9):
 *   log p(y|θ) = −½ yᵀα − ½ log|K| − n/2 log 2π,   ∂/∂θ = ½ tr((ααᵀ − K⁻¹) ∂K/∂θ).
 */
export function logPosterior(data: Data, theta: ArrayLike<number>): { value: number; gradient: Float64Array; lml: number } {
  const { n, p, y, sqDiff } = data;
  const h = fromTheta(theta, p);
  const { K, r } = covariance(data, h, true);
  let factor: CholeskyFactor;
  try {
    factor = cholesky(K, n);
  } catch {
    return { value: -Infinity, gradient: new Float64Array(p + 2), lml: -Infinity };
  }
  const alpha = solveUpper(factor, solveLower(factor, y));
  let fit = 0;
  for (let i = 0; i < n; i++) fit += y[i]! * alpha[i]!;
  const lml = -0.5 * fit - 0.5 * choleskyLogDet(factor) - 0.5 * n * Math.log(2 * Math.PI);
  const Kinv = choleskyInverse(factor);
  // W = ααᵀ − K⁻¹ (symmetric).
  const gradient = new Float64Array(p + 2);
  const inv2 = h.lengthScales.map((l) => 1 / (l * l));
  let k = 0;
  let signalTerm = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const w = alpha[i]! * alpha[j]! - Kinv[i * n + j]!;
      const g = matern52LengthScaleFactor(r[k]!, h.signalVariance);
      // Off-diagonal pairs appear twice in the trace: ½·2 = 1.
      for (let d = 0; d < p; d++) gradient[d]! += w * g * sqDiff[k * p + d]! * inv2[d]!;
      signalTerm += w * K[i * n + j]!;
      k++;
    }
  }
  let diagW = 0;
  for (let i = 0; i < n; i++) diagW += alpha[i]! * alpha[i]! - Kinv[i * n + i]!;
  gradient[p] = signalTerm + 0.5 * diagW * h.signalVariance;
  gradient[p + 1] = 0.5 * diagW * h.noiseVariance;

  let value = lml;
  const lsMean = lengthScalePriorMean(p);
  for (let d = 0; d < p; d++) {
    const pr = logNormalPrior(theta[d]!, lsMean, LENGTH_SCALE_PRIOR_SD);
    value += pr.value;
    gradient[d]! += pr.gradient;
  }
  const sp = logNormalPrior(theta[p]!, SIGNAL_PRIOR.mean, SIGNAL_PRIOR.sd);
  const np = logNormalPrior(theta[p + 1]!, NOISE_PRIOR.mean, NOISE_PRIOR.sd);
  value += sp.value + np.value;
  gradient[p]! += sp.gradient;
  gradient[p + 1]! += np.gradient;
  return { value, gradient, lml };
}

/** Exposed for tests: the log marginal likelihood of standardized y at fixed hyperparameters. */
export function logMarginalLikelihood(points: ArrayLike<number>[], y: ArrayLike<number>, h: GpHyperparameters): number {
  const data = prepare(points, Float64Array.from(y));
  const theta = [...h.lengthScales.map(Math.log), Math.log(h.signalVariance), Math.log(h.noiseVariance)];
  return logPosterior(data, theta).lml;
}

/** Exposed for tests: log posterior and its analytic gradient at θ. */
export function logPosteriorAt(points: ArrayLike<number>[], y: ArrayLike<number>, theta: number[]): { value: number; gradient: Float64Array } {
  return logPosterior(prepare(points, Float64Array.from(y)), theta);
}

function sigmoid(u: number): number {
  return u >= 0 ? 1 / (1 + Math.exp(-u)) : Math.exp(u) / (1 + Math.exp(u));
}

function logit(t: number): number {
  const c = Math.min(1 - 1e-9, Math.max(1e-9, t));
  return Math.log(c / (1 - c));
}

function standardize(values: ArrayLike<number>): { y: Float64Array; mean: number; std: number } {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (values[i]! - mean) ** 2;
  let std = Math.sqrt(v / Math.max(n - 1, 1));
  if (!(std > 1e-12 * Math.max(1, Math.abs(mean)))) std = 1;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = (values[i]! - mean) / std;
  return { y, mean, std };
}

export function fitGp(points: ArrayLike<number>[], values: ArrayLike<number>, options: FitOptions): FittedGp {
  if (points.length === 0) throw new RangeError("fitGp needs at least one observation");
  const { y, mean: yMean, std: yStd } = standardize(values);
  const data = prepare(points, y);
  const { p } = data;
  const { lo, hi } = thetaBounds(p);
  const toTheta = (u: Float64Array) => u.map((ui, i) => lo[i]! + (hi[i]! - lo[i]!) * sigmoid(ui));
  const toU = (theta: ArrayLike<number>) => Float64Array.from({ length: p + 2 }, (_, i) => logit((theta[i]! - lo[i]!) / (hi[i]! - lo[i]!)));
  const objective = (u: Float64Array) => {
    const theta = toTheta(u);
    const r = logPosterior(data, theta);
    const gradient = new Float64Array(p + 2);
    for (let i = 0; i < p + 2; i++) {
      const s = sigmoid(u[i]!);
      gradient[i] = -r.gradient[i]! * (hi[i]! - lo[i]!) * s * (1 - s);
    }
    return { value: -r.value, gradient };
  };

  const lsMean = lengthScalePriorMean(p);
  const starts: number[][] = [
    // The prior's centre: from there L-BFGS finds the smooth mode, not a spiky one.
    [...Array<number>(p).fill(lsMean), 0, NOISE_PRIOR.mean],
  ];
  if (options.initial) {
    const h = options.initial;
    if (h.lengthScales.length === p) starts.unshift([...h.lengthScales.map(Math.log), Math.log(h.signalVariance), Math.log(h.noiseVariance)]);
  }
  for (let k = 0; k < (options.randomRestarts ?? 1); k++) {
    starts.push([
      ...Array.from({ length: p }, () => lsMean + LENGTH_SCALE_PRIOR_SD * 0.5 * options.rng.normal()),
      SIGNAL_PRIOR.sd * 0.5 * options.rng.normal(),
      NOISE_PRIOR.mean + NOISE_PRIOR.sd * options.rng.normal(),
    ]);
  }
  let best: { theta: Float64Array; value: number } | null = null;
  for (const start of starts) {
    const clipped = start.map((t, i) => Math.min(hi[i]! - 1e-6, Math.max(lo[i]! + 1e-6, t)));
    const result = minimizeLbfgs(objective, toU(clipped), { maxIterations: options.maxIterations ?? 60, relativeTolerance: 1e-8 });
    if (Number.isFinite(result.value) && (!best || result.value < best.value)) best = { theta: toTheta(result.x), value: result.value };
  }
  if (!best) {
    // Every start failed to factorize: fall back to a heavily regularized, always-valid model.
    best = { theta: Float64Array.from([...Array<number>(p).fill(lsMean), 0, Math.log(HYPERPARAMETER_BOUNDS.noiseVariance[1])]), value: NaN };
  }
  return conditionGp(data, fromTheta(best.theta, p), yMean, yStd);
}

/** The posterior given fixed hyperparameters. */
function conditionGp(data: Data, h: GpHyperparameters, yMean: number, yStd: number): FittedGp {
  const { n, p, X, y } = data;
  const { K } = covariance(data, h, true);
  const factor = cholesky(K, n);
  const alpha = solveUpper(factor, solveLower(factor, y));
  const inverseLengthScales = Float64Array.from(h.lengthScales, (l) => 1 / l);
  const kStar = new Float64Array(n);
  const v = new Float64Array(n);
  let fit = 0;
  for (let i = 0; i < n; i++) fit += y[i]! * alpha[i]!;
  const lml = -0.5 * fit - 0.5 * choleskyLogDet(factor) - 0.5 * n * Math.log(2 * Math.PI);

  const predictStandardized = (x: ArrayLike<number>) => {
    let mean = 0;
    for (let i = 0; i < n; i++) {
      let r2 = 0;
      const row = i * p;
      for (let d = 0; d < p; d++) {
        const diff = (x[d]! - X[row + d]!) * inverseLengthScales[d]!;
        r2 += diff * diff;
      }
      const kv = matern52(Math.sqrt(r2), h.signalVariance);
      kStar[i] = kv;
      mean += kv * alpha[i]!;
    }
    solveLower(factor, kStar, v);
    let explained = 0;
    for (let i = 0; i < n; i++) explained += v[i]! * v[i]!;
    const variance = Math.max(h.signalVariance - explained, 1e-12 * h.signalVariance);
    return { mean, variance };
  };
  return {
    hyperparameters: h,
    logMarginalLikelihood: lml,
    yMean,
    yStd,
    predictStandardized,
    predict: (x) => {
      const s = predictStandardized(x);
      return { mean: yMean + yStd * s.mean, variance: s.variance * yStd * yStd };
    },
    trainingMeans: () => {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = predictStandardized(X.subarray(i * p, (i + 1) * p)).mean;
      return out;
    },
  };
}

/** The posterior for fixed hyperparameters, with `y` used as given (no standardization). */
export function posteriorWithHyperparameters(points: ArrayLike<number>[], y: ArrayLike<number>, h: GpHyperparameters): FittedGp {
  return conditionGp(prepare(points, Float64Array.from(y)), h, 0, 1);
}
