import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CanaryPercentError, canarySlotCount, canarySlots, plannedCanaryShare } from "../../../src/core/canary";

const canaryIndexes = (slots: string[]) => slots.flatMap((s, i) => (s === "canary" ? [i] : []));

describe("canary slots", () => {
  it("gives round(p·N) of 20 slots to the canary at the rollout steps", () => {
    expect([0, 5, 25, 50, 100].map((p) => canarySlotCount(p))).toEqual([0, 1, 5, 10, 20]);
    expect(plannedCanaryShare(25)).toBe(0.25);
    expect(canarySlotCount(12.5)).toBe(3); // 2.5 rounds half up
  });

  it("spreads the canary slots through the list instead of bunching them", () => {
    expect(canaryIndexes(canarySlots(25))).toEqual([3, 7, 11, 15, 19]);
    expect(canaryIndexes(canarySlots(50))).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    expect(canaryIndexes(canarySlots(5))).toEqual([19]);
  });

  it("has exactly k canary slots, and gaps between them differ by at most one, for any p and N", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 100, noNaN: true }), fc.integer({ min: 1, max: 64 }), (p, n) => {
        const slots = canarySlots(p, n);
        const idx = canaryIndexes(slots);
        expect(slots).toHaveLength(n);
        expect(idx).toHaveLength(canarySlotCount(p, n));
        if (idx.length >= 2) {
          const gaps = idx.slice(1).map((v, i) => v - idx[i]!);
          expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it("rejects percentages outside 0..100 and bad slot counts with a clear message", () => {
    expect(() => canarySlots(-1)).toThrow(CanaryPercentError);
    expect(() => canarySlots(101)).toThrow(/0 to 100, got 101/);
    expect(() => canarySlots(Number.NaN)).toThrow(/canary_pct/);
    expect(() => canarySlots(10, 0)).toThrow(/slot count/);
  });
});
