/**
 * Limited-memory BFGS (Nocedal & Wright, "Numerical Optimization", alg. 7.4 and 7.5) with a
 * backtracking Armijo line search, for smooth unconstrained minimization. Bounds are the
 * caller's job (the GP reparameterizes through a sigmoid).
 */
export interface LbfgsOptions {
  /** Pairs kept for the inverse-Hessian estimate. */
  memory?: number;
  maxIterations?: number;
  /** Stop when ‖∇f‖∞ falls below this. */
  gradientTolerance?: number;
  /** Stop when |Δf| ≤ this·max(1, |f|). */
  relativeTolerance?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  evaluations: number;
}

export type ValueAndGradient = (x: Float64Array) => { value: number; gradient: Float64Array };

const ARMIJO_C1 = 1e-4;
const MAX_LINE_SEARCH_STEPS = 25;

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function minimizeLbfgs(f: ValueAndGradient, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const memory = options.memory ?? 8;
  const maxIterations = options.maxIterations ?? 100;
  const gradTol = options.gradientTolerance ?? 1e-6;
  const relTol = options.relativeTolerance ?? 1e-10;
  const n = x0.length;
  let x: Float64Array = Float64Array.from(x0);
  let { value, gradient } = f(x);
  let evaluations = 1;
  if (!Number.isFinite(value)) return { x, value, iterations: 0, evaluations };
  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  const rhoList: number[] = [];
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    let gmax = 0;
    for (let i = 0; i < n; i++) gmax = Math.max(gmax, Math.abs(gradient[i]!));
    if (gmax < gradTol) break;
    // Two-loop recursion: direction = −H∇f.
    const q = Float64Array.from(gradient);
    const alpha = new Array<number>(sList.length);
    for (let k = sList.length - 1; k >= 0; k--) {
      alpha[k] = rhoList[k]! * dot(sList[k]!, q);
      for (let i = 0; i < n; i++) q[i]! -= alpha[k]! * yList[k]![i]!;
    }
    if (sList.length > 0) {
      const last = sList.length - 1;
      const gamma = dot(sList[last]!, yList[last]!) / dot(yList[last]!, yList[last]!);
      for (let i = 0; i < n; i++) q[i]! *= gamma;
    } else {
      // First step: a unit-length steepest-descent step.
      const norm = Math.sqrt(dot(q, q));
      for (let i = 0; i < n; i++) q[i]! /= Math.max(norm, 1e-12);
    }
    for (let k = 0; k < sList.length; k++) {
      const beta = rhoList[k]! * dot(yList[k]!, q);
      for (let i = 0; i < n; i++) q[i]! += sList[k]![i]! * (alpha[k]! - beta);
    }
    const direction = q.map((v) => -v);
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // Not a descent direction (curvature information went stale): restart from steepest descent.
      sList.length = 0;
      yList.length = 0;
      rhoList.length = 0;
      for (let i = 0; i < n; i++) direction[i] = -gradient[i]!;
      slope = dot(gradient, direction);
    }
    let step = 1;
    let accepted: { x: Float64Array; value: number; gradient: Float64Array } | null = null;
    for (let ls = 0; ls < MAX_LINE_SEARCH_STEPS; ls++) {
      const candidate = new Float64Array(n);
      for (let i = 0; i < n; i++) candidate[i] = x[i]! + step * direction[i]!;
      const r = f(candidate);
      evaluations++;
      if (Number.isFinite(r.value) && r.value <= value + ARMIJO_C1 * step * slope) {
        accepted = { x: candidate, value: r.value, gradient: r.gradient };
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = accepted.x[i]! - x[i]!;
      y[i] = accepted.gradient[i]! - gradient[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      sList.push(s);
      yList.push(y);
      rhoList.push(1 / sy);
      if (sList.length > memory) {
        sList.shift();
        yList.shift();
        rhoList.shift();
      }
    }
    const previous = value;
    x = accepted.x;
    value = accepted.value;
    gradient = accepted.gradient;
    if (Math.abs(previous - value) <= relTol * Math.max(1, Math.abs(value))) {
      iterations++;
      break;
    }
  }
  return { x, value, iterations, evaluations };
}
