import { describe, expect, it } from "vitest";
import { differenceInterval, meanInterval, studentTCdf, studentTQuantile } from "../../../src/core/rollout";

describe("Student t", () => {
  // Two-sided 95 % (p = 0.975) and 99 % (p = 0.995) critical values from the standard t table
  // (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
  it.each([
    [1, 0.975, 12.706],
    [2, 0.975, 4.303],
    [3, 0.975, 3.182],
    [4, 0.975, 2.776],
    [5, 0.975, 2.571],
    [10, 0.975, 2.228],
    [20, 0.975, 2.086],
    [30, 0.975, 2.042],
    [100, 0.975, 1.984],
    [5, 0.995, 4.032],
    [10, 0.995, 3.169],
    [10, 0.95, 1.812],
  ])("quantile(df=%i, p=%f) = %f", (df, p, expected) => {
    expect(studentTQuantile(p, df)).toBeCloseTo(expected, 3);
    expect(studentTQuantile(1 - p, df)).toBeCloseTo(-expected, 3);
  });

  it("the CDF inverts the quantile, also for fractional (Welch) degrees of freedom", () => {
    for (const df of [2.5, 7.3, 41.9]) {
      for (const p of [0.6, 0.9, 0.975]) expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 9);
    }
  });

  it("approaches the normal quantile for large df", () => {
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.95996, 4);
  });

  it("refuses p outside (0, 1) and non-positive df", () => {
    expect(() => studentTQuantile(1, 5)).toThrow(RangeError);
    expect(() => studentTQuantile(0.5, 0)).toThrow(RangeError);
  });
});

describe("intervals", () => {
  it("mean interval: t(n−1)·s/√n", () => {
    const m = meanInterval([100, 104, 98, 101]);
    expect(m.mean).toBeCloseTo(100.75, 10);
    expect(m.sd).toBeCloseTo(2.5, 10);
    expect(m.halfWidth).toBeCloseTo(3.182446 * (2.5 / 2), 4);
  });

  it("one value has no interval (never a made-up zero width)", () => {
    expect(meanInterval([5])).toMatchObject({ n: 1, mean: 5, sd: null, halfWidth: null });
  });

  it("Welch with equal variances and sizes has df = 2n − 2", () => {
    const d = differenceInterval([1, 2, 3], [2, 3, 4]);
    expect(d.difference).toBe(1);
    expect(d.df).toBeCloseTo(4, 10);
    expect(d.halfWidth).toBeCloseTo(2.776445 * Math.sqrt(2 / 3), 4);
  });

  it("Welch–Satterthwaite df for unequal variances", () => {
    // s1² = 1, n1 = 3; s2² = 100, n2 = 5 → df = (1/3 + 20)² / ((1/3)²/2 + 20²/4) ≈ 4.133
    const a = [0, 1, 2];
    const b = [0, 10, 20, 0, 20].map((x) => x); // variance 100
    const d = differenceInterval(a, b);
    const se2 = 1 / 3 + 100 / 5;
    expect(d.df).toBeCloseTo(se2 ** 2 / ((1 / 3) ** 2 / 2 + 20 ** 2 / 4), 8);
  });
});
