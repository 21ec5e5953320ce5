import { describe, expect, it } from "vitest";
import { failureTolerance, replayTrustRegion, TRUST_REGION, trustRegionBox } from "../../../src/core/optimize/trust-region";

describe("trust region (TuRBO side-length rules, replayed from the history)", () => {
  it("starts at the initial side and ignores the initial design", () => {
    expect(replayTrustRegion([5, 4, 3, 2, 1], 5, 3)).toEqual({ length: TRUST_REGION.initialLength, successes: 0, failures: 0, restarts: 0 });
  });

  it("doubles after successTolerance improvements in a row, up to maxLength", () => {
    const design = [10, 9];
    expect(replayTrustRegion([...design, 8, 7, 6], 2, 3).length).toBeCloseTo(2 * TRUST_REGION.initialLength > TRUST_REGION.maxLength ? TRUST_REGION.maxLength : 2 * TRUST_REGION.initialLength);
    expect(replayTrustRegion([...design, 8, 7, 6, 5, 4, 3, 2, 1, 0], 2, 3).length).toBe(TRUST_REGION.maxLength);
  });

  it("halves after max(4, D) failures in a row, and an improvement resets the count", () => {
    expect(failureTolerance(2)).toBe(4);
    expect(failureTolerance(10)).toBe(10);
    const fail = (k: number) => Array<number>(k).fill(100);
    expect(replayTrustRegion([1, ...fail(9)], 1, 10).length).toBe(TRUST_REGION.initialLength);
    expect(replayTrustRegion([1, ...fail(10)], 1, 10).length).toBe(TRUST_REGION.initialLength / 2);
    expect(replayTrustRegion([1, ...fail(9), 0.5, ...fail(9)], 1, 10).length).toBe(TRUST_REGION.initialLength);
  });

  it("counts an improvement only beyond the relative threshold", () => {
    const tiny = 1 - TRUST_REGION.relativeImprovement / 2;
    expect(replayTrustRegion([1, tiny, tiny * tiny, tiny ** 3, tiny ** 4], 1, 2).failures).toBe(0);
    expect(replayTrustRegion([1, tiny, tiny * tiny, tiny ** 3, tiny ** 4], 1, 2).length).toBe(TRUST_REGION.initialLength / 2);
  });

  it("restarts at the initial side once the side falls below minLength", () => {
    // 0.8 / 2⁷ < 0.5⁷: the 7th halving (after 7 × 4 failures in 2-D) triggers the restart.
    expect(replayTrustRegion([1, ...Array<number>(4 * 7 - 1).fill(2)], 1, 2).restarts).toBe(0);
    const history = [1, ...Array<number>(4 * 7).fill(2)];
    const state = replayTrustRegion(history, 1, 2);
    expect(state.restarts).toBe(1);
    expect(state.length).toBe(TRUST_REGION.initialLength);
  });

  it("weights the box by length scale (geometric mean 1), clips it to the cube and leaves other coordinates free", () => {
    const box = trustRegionBox([0.5, 0.9, 1], 0.4, [1, 4, 1], [0, 1]);
    // Weights ℓ/geomean(ℓ) over the numeric coordinates 0 and 1: 1/2 and 2.
    expect(box.lower[0]).toBeCloseTo(0.5 - 0.4 * 0.5 / 2, 12);
    expect(box.upper[0]).toBeCloseTo(0.5 + 0.4 * 0.5 / 2, 12);
    expect(box.lower[1]).toBeCloseTo(0.9 - 0.4 * 2 / 2, 12);
    expect(box.upper[1]).toBe(1);
    expect([box.lower[2], box.upper[2]]).toEqual([0, 1]);
  });
});
