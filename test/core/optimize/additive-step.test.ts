import { describe, expect, it } from "vitest";
import { ADDITIVE_STEP, additiveCandidates, additiveTargets } from "../../../src/core/optimize/additive-step";
import { fitGp, posteriorWithHyperparameters } from "../../../src/core/optimize/gp";
import { createRng } from "../../../src/core/random";

// A separable objective, each coordinate's own effect a parabola with its minimum at `optimum`.
const optimum = [0.2, 0.75, 0.5, 0.35];
const separable = (x: number[]) => x.reduce((s, xi, d) => s + (d + 1) * (xi - optimum[d]!) ** 2, 0);

describe("additive step", () => {
  it("with β = 0 each coordinate's target is its own effect's minimum", () => {
    const rng = createRng(11);
    const points = Array.from({ length: 40 }, () => optimum.map(() => rng.uniform()));
    const gp = fitGp(points, points.map(separable), { rng: createRng(1) });
    const targets = additiveTargets(gp, [0, 1, 2, 3], 4, 0)!;
    targets.forEach((t, d) => expect(Math.abs(t - optimum[d]!)).toBeLessThan(0.06));
  });

  it("where the predicted effect is flat, the bound sends a coordinate to the part of its range no observation has tried", () => {
    const rng = createRng(12);
    // Coordinate 0 observed only in [0, 0.4], the others everywhere; every value the same.
    const points = Array.from({ length: 30 }, () => [0.4 * rng.uniform(), rng.uniform(), rng.uniform(), rng.uniform()]);
    const h = { lengthScales: [20, 20, 20, 20], signalVariance: 0.01, noiseVariance: 1e-4, additive: { lengthScale: 0.45, variance: 1 } };
    const gp = posteriorWithHyperparameters(points, points.map(() => 0), h);
    expect(additiveTargets(gp, [0, 1, 2, 3], 4)![0]!).toBe(1);
    // With a predicted effect, β = 0 follows the mean: a dip at 0.2 in coordinate 0.
    const dipped = posteriorWithHyperparameters(points, points.map((x) => -Math.exp(-(((x[0]! - 0.2) / 0.1) ** 2))), h);
    expect(Math.abs(additiveTargets(dipped, [0, 1, 2, 3], 4, 0)![0]! - 0.2)).toBeLessThan(0.05);
  });

  it("candidates keep the centre except for coordinates moved to their targets; unlisted coordinates never move", () => {
    const centre = [0.1, 0.2, 0.3, 0.4, 1, 0];
    const targets = Float64Array.from([0.9, 0.8, 0.7, 0.6, NaN, NaN]);
    const candidates = additiveCandidates(centre, targets, createRng(3), 200);
    expect(candidates).toHaveLength(1 + 4 + 200);
    expect(Array.from(candidates[0]!)).toEqual([0.9, 0.8, 0.7, 0.6, 1, 0]);
    for (let d = 0; d < 4; d++) {
      const expected = [...centre];
      expected[d] = targets[d]!;
      expect(Array.from(candidates[1 + d]!)).toEqual(expected);
    }
    let moved = 0;
    for (const x of candidates.slice(5)) {
      x.forEach((v, d) => {
        if (d >= 4) expect(v).toBe(centre[d]);
        else expect([centre[d], targets[d]]).toContain(v);
        if (d < 4 && v === targets[d]) moved++;
      });
    }
    // Each of 4 × 200 coordinates moves with probability 0.3.
    expect(moved / 800).toBeGreaterThan(ADDITIVE_STEP.moveProbability - 0.06);
    expect(moved / 800).toBeLessThan(ADDITIVE_STEP.moveProbability + 0.06);
  });

  it("there are no targets without an additive term", () => {
    const rng = createRng(13);
    const points = Array.from({ length: 20 }, () => optimum.map(() => rng.uniform()));
    const gp = fitGp(points, points.map(separable), { rng: createRng(1), additive: false });
    expect(additiveTargets(gp, [0, 1, 2, 3], 4)).toBeNull();
  });
});
