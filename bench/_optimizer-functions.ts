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
