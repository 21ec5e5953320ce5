/**
 * Standard test functions for global optimization, with their published optima
 * (Surjanovic & Bingham, "Virtual Library of Simulation Experiments", sfu.ca/~ssurjano).
 */
import type { SpaceSpec } from "../src/core/optimize/space";

export interface TestFunction {
  name: string;
  space: SpaceSpec;
  /** Published global minimum. */
  optimum: number;
  evaluate(x: Record<string, number>): number;
}

function numericSpace(bounds: Array<[number, number]>): SpaceSpec {
  return { dimensions: bounds.map(([low, high], i) => ({ name: `x${i + 1}`, type: "float" as const, low, high, log: false })) };
}

function vector(x: Record<string, number>, d: number): number[] {
  return Array.from({ length: d }, (_, i) => x[`x${i + 1}`]!);
}

/** Branin–Hoo on [−5, 10] × [0, 15]; minimum 0.397887 at three points. */
export const branin: TestFunction = {
  name: "Branin (2-D)",
  space: numericSpace([
    [-5, 10],
    [0, 15],
  ]),
  optimum: 0.397887,
  evaluate: (x) => {
    const [x1, x2] = vector(x, 2) as [number, number];
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
  },
};

const HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2];
const HARTMANN_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const HARTMANN_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => v * 1e-4));

/** Hartmann 6-D on [0, 1]⁶; minimum −3.32237. */
export const hartmann6: TestFunction = {
  name: "Hartmann (6-D)",
  space: numericSpace(Array.from({ length: 6 }, () => [0, 1] as [number, number])),
  optimum: -3.32237,
  evaluate: (x) => {
    const v = vector(x, 6);
    let s = 0;
    for (let i = 0; i < 4; i++) {
      let inner = 0;
      for (let j = 0; j < 6; j++) inner += HARTMANN_A[i]![j]! * (v[j]! - HARTMANN_P[i]![j]!) ** 2;
      s += HARTMANN_ALPHA[i]! * Math.exp(-inner);
    }
    return -s;
  },
};

/** Levy on [−10, 10]¹⁰; minimum 0 at (1, …, 1). */
export const levy10: TestFunction = {
  name: "Levy (10-D)",
  space: numericSpace(Array.from({ length: 10 }, () => [-10, 10] as [number, number])),
  optimum: 0,
  evaluate: (x) => {
    const w = vector(x, 10).map((xi) => 1 + (xi - 1) / 4);
    const d = w.length;
    let s = Math.sin(Math.PI * w[0]!) ** 2;
    for (let i = 0; i < d - 1; i++) s += (w[i]! - 1) ** 2 * (1 + 10 * Math.sin(Math.PI * w[i]! + 1) ** 2);
    s += (w[d - 1]! - 1) ** 2 * (1 + Math.sin(2 * Math.PI * w[d - 1]!) ** 2);
    return s;
  },
};

/** Ackley on [−32.768, 32.768]¹⁰ (a = 20, b = 0.2, c = 2π); minimum 0 at the origin. */
export const ackley10: TestFunction = {
  name: "Ackley (10-D)",
  space: numericSpace(Array.from({ length: 10 }, () => [-32.768, 32.768] as [number, number])),
  optimum: 0,
  evaluate: (x) => {
    const v = vector(x, 10);
    const d = v.length;
    const sumSquares = v.reduce((s, xi) => s + xi * xi, 0);
    const sumCos = v.reduce((s, xi) => s + Math.cos(2 * Math.PI * xi), 0);
    return -20 * Math.exp(-0.2 * Math.sqrt(sumSquares / d)) - Math.exp(sumCos / d) + 20 + Math.E;
  },
};

/** Rosenbrock on [−5, 10]¹⁰; minimum 0 at (1, …, 1). */
export const rosenbrock10: TestFunction = {
  name: "Rosenbrock (10-D)",
  space: numericSpace(Array.from({ length: 10 }, () => [-5, 10] as [number, number])),
  optimum: 0,
  evaluate: (x) => {
    const v = vector(x, 10);
    let s = 0;
    for (let i = 0; i < v.length - 1; i++) s += 100 * (v[i + 1]! - v[i]! * v[i]!) ** 2 + (v[i]! - 1) ** 2;
    return s;
  },
};

/** Where Hartmann-6's inputs sit among the 10 coordinates; the other 4 do nothing. */
const EMBEDDED_ACTIVE = [1, 3, 4, 6, 8, 9];

/**
 * Hartmann-6 embedded in [0, 1]¹⁰ with 4 inactive coordinates (x1, x3, x6 and x8 are
 * ignored): like knob tuning, where several knobs barely matter. Minimum −3.32237.
 */
export const hartmann6in10: TestFunction = {
  name: "Hartmann-6 in 10-D (4 inactive)",
  space: numericSpace(Array.from({ length: 10 }, () => [0, 1] as [number, number])),
  optimum: -3.32237,
  evaluate: (x) => {
    const v = vector(x, 10);
    return hartmann6.evaluate(Object.fromEntries(EMBEDDED_ACTIVE.map((c, j) => [`x${j + 1}`, v[c]!])));
  },
};
