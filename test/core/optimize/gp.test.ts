import { CholeskyDecomposition, Matrix, inverse } from "ml-matrix";
import { describe, expect, it } from "vitest";
import { fitGp, logMarginalLikelihood, logPosteriorAt, posteriorWithHyperparameters } from "../../../src/core/optimize/gp";
import { cholesky, choleskyInverse, choleskySolve } from "../../../src/core/optimize/linalg";
import { minimizeLbfgs } from "../../../src/core/optimize/lbfgs";
import { createRng, type Rng } from "../../../src/core/random";

// A fixed data set; reference values computed independently with NumPy 2 (np.linalg.cholesky /
// solve on the same Matérn 5/2 ARD formula).
const X = [
  [0.085649, 0.236811, 0.801274],
  [0.582162, 0.094129, 0.433127],
  [0.479051, 0.159739, 0.734577],
  [0.113672, 0.391228, 0.51674],
  [0.430628, 0.586799, 0.737838],
  [0.956267, 0.284201, 0.648547],
  [0.696216, 0.292721, 0.00149],
];
const Y = [0.51, -0.73, 0.11, 1.18, 1.15, -1.1, -1.12];
const H = { lengthScales: [0.3, 0.7, 1.9], signalVariance: 1.3, noiseVariance: 0.01 };

/** B Bᵀ + ½I for a random normal n×n B: row-major for ours, and the same as an ml-matrix Matrix. */
function randomSpd(rng: Rng, n: number): { a: Float64Array; matrix: Matrix } {
  const b = Array.from({ length: n * n }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = i === j ? 0.5 : 0;
    for (let k = 0; k < n; k++) s += b[i * n + k]! * b[j * n + k]!;
    a[i * n + j] = s;
  }
  return { a, matrix: new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)))) };
}

/**
 * The GP of X, Y with H plus an additive term, computed densely with ml-matrix from the kernel's
 * formula: the independent reference the additive-term tests compare against.
 */
function denseAdditiveModel() {
  const additive = { lengthScale: 0.4, variance: 0.8 };
  const m52 = (r: number) => (1 + Math.sqrt(5) * r + (5 * r * r) / 3) * Math.exp(-Math.sqrt(5) * r);
  const k = (a: number[], b: number[]) => {
    const r = Math.sqrt(a.reduce((s, ai, d) => s + ((ai - b[d]!) / H.lengthScales[d]!) ** 2, 0));
    const sum = a.reduce((s, ai, d) => s + m52(Math.abs(ai - b[d]!) / additive.lengthScale), 0);
    return H.signalVariance * m52(r) + (additive.variance / a.length) * sum;
  };
  const K = new Matrix(X.map((a) => X.map((b) => k(a, b)))).add(Matrix.eye(X.length).mul(H.noiseVariance));
  const chol = new CholeskyDecomposition(K);
  return { additive, m52, k, chol, alpha: chol.solve(Matrix.columnVector(Y)) };
}

describe("linear algebra", () => {
  it("factors the textbook example exactly", () => {
    // Wikipedia "Cholesky decomposition" example: L = [[2,0,0],[6,1,0],[-8,5,3]].
    const f = cholesky(Float64Array.from([4, 12, -16, 12, 37, -43, -16, -43, 98]), 3);
    expect(Array.from(f.lower)).toEqual([2, 0, 0, 6, 1, 0, -8, 5, 3]);
    expect(f.jitter).toBe(0);
    const x = choleskySolve(f, [1, 2, 3]);
    const inv = choleskyInverse(f);
    const viaInverse = [0, 1, 2].map((i) => inv[i * 3]! * 1 + inv[i * 3 + 1]! * 2 + inv[i * 3 + 2]! * 3);
    viaInverse.forEach((v, i) => expect(v).toBeCloseTo(x[i]!, 10));
  });

  it("agrees with ml-matrix's CholeskyDecomposition on random SPD matrices", () => {
    const rng = createRng(11);
    for (const n of [1, 5, 30]) {
      const { a, matrix } = randomSpd(rng, n);
      const ours = cholesky(a, n);
      const reference = new CholeskyDecomposition(matrix).lowerTriangularMatrix;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(ours.lower[i * n + j]!).toBeCloseTo(reference.get(i, j), 9);
    }
  });

  it("choleskyInverse agrees with ml-matrix's inverse on random SPD matrices", () => {
    const rng = createRng(12);
    for (const n of [1, 2, 7, 50]) {
      const { a, matrix } = randomSpd(rng, n);
      const ours = choleskyInverse(cholesky(a, n));
      const reference = inverse(matrix);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(ours[i * n + j]!).toBeCloseTo(reference.get(i, j), 8);
    }
  });

  it("adds jitter to a singular matrix instead of failing", () => {
    const f = cholesky(Float64Array.from([1, 1, 1, 1]), 2);
    expect(f.jitter).toBeGreaterThan(0);
  });
});

describe("Gaussian process", () => {
  it("log marginal likelihood matches an independent NumPy computation", () => {
    expect(logMarginalLikelihood(X, Y, H)).toBeCloseTo(-7.158941287949853, 9);
  });

  it("posterior mean and variance match NumPy", () => {
    const gp = posteriorWithHyperparameters(X, Y, H);
    const p = gp.predictStandardized([0.5, 0.5, 0.5]);
    expect(p.mean).toBeCloseTo(0.5536286515882235, 9);
    expect(p.variance).toBeCloseTo(0.07894735533965958, 9);
  });

  it("analytic gradient of the log posterior matches central differences", () => {
    const theta = [Math.log(0.3), Math.log(0.7), Math.log(1.9), Math.log(1.3), Math.log(0.01)];
    const { gradient } = logPosteriorAt(X, Y, theta);
    const h = 1e-6;
    theta.forEach((_, i) => {
      const up = [...theta];
      const down = [...theta];
      up[i]! += h;
      down[i]! -= h;
      const numeric = (logPosteriorAt(X, Y, up).value - logPosteriorAt(X, Y, down).value) / (2 * h);
      expect(gradient[i]!).toBeCloseTo(numeric, 5);
    });
  });

  it("with the additive term: the analytic gradient matches central differences", () => {
    // θ = [log ℓ_1..3, log σ_f², log σ_n², log ℓᵃ, log σ_a²]
    const theta = [Math.log(0.3), Math.log(0.7), Math.log(1.9), Math.log(1.3), Math.log(0.01), Math.log(0.4), Math.log(0.8)];
    const { gradient } = logPosteriorAt(X, Y, theta);
    const h = 1e-6;
    theta.forEach((_, i) => {
      const up = [...theta];
      const down = [...theta];
      up[i]! += h;
      down[i]! -= h;
      const numeric = (logPosteriorAt(X, Y, up).value - logPosteriorAt(X, Y, down).value) / (2 * h);
      expect(gradient[i]!).toBeCloseTo(numeric, 5);
    });
  });

  it("with the additive term: likelihood and posterior agree with a dense ml-matrix computation of the kernel", () => {
    const { additive, k, chol, alpha } = denseAdditiveModel();
    let logDet = 0;
    for (let i = 0; i < X.length; i++) logDet += 2 * Math.log(chol.lowerTriangularMatrix.get(i, i));
    const fit = Y.reduce((s, yi, i) => s + yi * alpha.get(i, 0), 0);
    const expected = -0.5 * fit - 0.5 * logDet - 0.5 * X.length * Math.log(2 * Math.PI);
    const h = { ...H, additive };
    expect(logMarginalLikelihood(X, Y, h)).toBeCloseTo(expected, 9);
    const x = [0.5, 0.5, 0.5];
    const kStar = Matrix.columnVector(X.map((xi) => k(x, xi)));
    const gp = posteriorWithHyperparameters(X, Y, h);
    const p = gp.predictStandardized(x);
    expect(p.mean).toBeCloseTo(kStar.transpose().mmul(alpha).get(0, 0), 9);
    expect(p.variance).toBeCloseTo(H.signalVariance + additive.variance - kStar.transpose().mmul(chol.solve(kStar)).get(0, 0), 9);
  });

  it("one coordinate's additive component: posterior mean and variance agree with a dense ml-matrix computation", () => {
    const { additive, m52, chol, alpha } = denseAdditiveModel();
    const h = { ...H, additive };
    const gp = posteriorWithHyperparameters(X, Y, h);
    const perComponent = additive.variance / 3;
    for (const [d, u] of [[0, 0.2], [1, 0.55], [2, 1]] as const) {
      const kd = Matrix.columnVector(X.map((xi) => perComponent * m52(Math.abs(u - xi[d]!) / additive.lengthScale)));
      const component = gp.additiveComponent(d, u)!;
      expect(component.mean).toBeCloseTo(kd.transpose().mmul(alpha).get(0, 0), 9);
      expect(component.variance).toBeCloseTo(perComponent - kd.transpose().mmul(chol.solve(kd)).get(0, 0), 9);
      expect(component.variance).toBeGreaterThan(0);
      expect(component.variance).toBeLessThan(perComponent);
    }
    expect(posteriorWithHyperparameters(X, Y, H).additiveComponent(0, 0.5)).toBeNull();
  });

  it("with the additive term: inputs far from the unit cube (one exponential per pair) give the same model as shifted ones (factored exponentials)", () => {
    // The kernel depends on differences only, so shifting every input by 100 changes nothing;
    // with the shift, c·|x| is far beyond the factoring limit and the direct path is taken.
    const theta = [Math.log(0.3), Math.log(0.7), Math.log(1.9), Math.log(1.3), Math.log(0.01), Math.log(0.4), Math.log(0.8)];
    const shifted = X.map((row) => row.map((v) => v + 100));
    const near = logPosteriorAt(X, Y, theta);
    const far = logPosteriorAt(shifted, Y, theta);
    expect(far.value).toBeCloseTo(near.value, 9);
    far.gradient.forEach((g, i) => expect(g).toBeCloseTo(near.gradient[i]!, 8));
    const h = { ...H, additive: { lengthScale: 0.4, variance: 0.8 } };
    const gpNear = posteriorWithHyperparameters(X, Y, h);
    const gpFar = posteriorWithHyperparameters(shifted, Y, h);
    for (const x of [[0.5, 0.5, 0.5], [0.1, 0.9, 0.3], [0.5, 0.5, 40]]) {
      const a = gpNear.predictStandardized(x);
      const b = gpFar.predictStandardized(x.map((v) => v + 100));
      expect(b.mean).toBeCloseTo(a.mean, 9);
      expect(b.variance).toBeCloseTo(a.variance, 9);
    }
  });

  it("the additive term recovers a separable trend in 10-D that the ARD term alone misses", () => {
    // f = Σ_d (x_d − 0.6)²: each coordinate's own effect, as knobs often act.
    const rng = createRng(3);
    const f = (x: number[]) => x.reduce((s, xi) => s + (xi - 0.6) ** 2, 0);
    const pts = Array.from({ length: 40 }, () => Array.from({ length: 10 }, () => rng.uniform()));
    const test = Array.from({ length: 200 }, () => Array.from({ length: 10 }, () => rng.uniform()));
    const r2 = (gp: ReturnType<typeof fitGp>) => {
      const truth = test.map(f);
      const mean = truth.reduce((a, b) => a + b, 0) / truth.length;
      let sse = 0;
      let sst = 0;
      test.forEach((x, i) => {
        sse += (gp.predict(x).mean - truth[i]!) ** 2;
        sst += (truth[i]! - mean) ** 2;
      });
      return 1 - sse / sst;
    };
    const withAdditive = fitGp(pts, pts.map(f), { rng: createRng(1) });
    const ardOnly = fitGp(pts, pts.map(f), { rng: createRng(1), additive: false });
    expect(withAdditive.hyperparameters.additive).toBeDefined();
    expect(ardOnly.hyperparameters.additive).toBeUndefined();
    expect(r2(withAdditive)).toBeGreaterThan(0.8);
    expect(r2(withAdditive)).toBeGreaterThan(r2(ardOnly) + 0.1);
  });

  it("fitting raises the marginal likelihood above a poor starting guess and predicts held-out points", () => {
    const rng = createRng(5);
    const f = (x: number[]) => Math.sin(5 * x[0]!) + 0.2 * x[1]!;
    const pts = Array.from({ length: 25 }, () => [rng.uniform(), rng.uniform()]);
    const gp = fitGp(pts, pts.map(f), { rng: createRng(1) });
    expect(gp.hyperparameters.lengthScales[0]!).toBeLessThan(gp.hyperparameters.lengthScales[1]!);
    let sq = 0;
    for (let i = 0; i < 20; i++) {
      const x = [rng.uniform(), rng.uniform()];
      sq += (gp.predict(x).mean - f(x)) ** 2;
    }
    expect(Math.sqrt(sq / 20)).toBeLessThan(0.1);
  });
});

describe("L-BFGS", () => {
  it("finds the Rosenbrock minimum", () => {
    const r = minimizeLbfgs(
      (x) => {
        const [a, b] = [x[0]!, x[1]!];
        return {
          value: (1 - a) ** 2 + 100 * (b - a * a) ** 2,
          gradient: Float64Array.from([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)]),
        };
      },
      Float64Array.from([-1.2, 1]),
      { maxIterations: 500, relativeTolerance: 0 },
    );
    expect(r.x[0]!).toBeCloseTo(1, 4);
    expect(r.x[1]!).toBeCloseTo(1, 4);
  });
});
