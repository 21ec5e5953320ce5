import { describe, expect, it } from "vitest";
import {
  buildMixture,
  erfc,
  lognormalFromMoments,
  mixtureCdf,
  mixtureQuantile,
  normalCdf,
  normalQuantile,
} from "../../../src/core/metrics";
import { createRng } from "../../../src/core/random";
import { empiricalQuantile } from "../../support/metrics-fixtures";

describe("erfc and the normal distribution", () => {
  // Published values (Abramowitz & Stegun table 7.1; scipy.special.erfc to 16 digits).
  const published: Array<[number, number]> = [
    [0, 1],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [2, 0.004677734981047266],
    [3, 2.209049699858544e-5],
    [-1, 1.8427007929497148],
  ];
  it.each(published)("erfc(%f) = %f within 1.2e-7 relative", (x, expected) => {
    expect(Math.abs(erfc(x) - expected) / expected).toBeLessThan(1.2e-7);
  });

  it("Φ and Φ⁻¹ match published quantiles", () => {
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 7);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536269514722, 6);
    expect(normalQuantile(0.99)).toBeCloseTo(2.3263478740408408, 6);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 6);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });
});

describe("lognormal fitted to a mean and standard deviation", () => {
  it.each([
    [1, 0.5],
    [0.02, 0.3],
    [250, 1000],
  ])("has mean %f and sd %f", (mean, sd) => {
    const d = lognormalFromMoments(mean, sd);
    const fittedMean = Math.exp(d.mu + (d.sigma * d.sigma) / 2);
    const fittedSd = Math.sqrt((Math.exp(d.sigma * d.sigma) - 1) * Math.exp(2 * d.mu + d.sigma * d.sigma));
    expect(fittedMean).toBeCloseTo(mean, 9);
    expect(fittedSd / sd).toBeCloseTo(1, 9);
  });
});

describe("calls-weighted mixture quantiles (bisection on the mixture CDF)", () => {
  const statements = [
    { calls: 9_000, meanMs: 0.2, stddevMs: 0.1 },
    { calls: 900, meanMs: 3, stddevMs: 4 },
    { calls: 100, meanMs: 80, stddevMs: 30 },
  ];

  it("agree with the quantiles of a large sample drawn from the same mixture", () => {
    const m = buildMixture(statements)!;
    const rng = createRng(42);
    const gauss = () => rng.normal();
    const draws: number[] = [];
    for (const s of statements) {
      const d = lognormalFromMoments(s.meanMs, s.stddevMs);
      for (let i = 0; i < s.calls * 30; i++) draws.push(Math.exp(d.mu + d.sigma * gauss()));
    }
    for (const p of [0.5, 0.95, 0.99]) {
      const direct = empiricalQuantile(draws, p);
      expect(Math.abs(mixtureQuantile(m, p) / direct - 1)).toBeLessThan(0.03);
    }
    expect(m.mean).toBeCloseTo((9_000 * 0.2 + 900 * 3 + 100 * 80) / 10_000, 9);
  });

  it("returns x with CDF(x) = p", () => {
    const m = buildMixture(statements)!;
    for (const p of [0.01, 0.5, 0.9, 0.999]) expect(mixtureCdf(m, mixtureQuantile(m, p))).toBeCloseTo(p, 6);
  });

  it("treats zero-spread statements as point masses", () => {
    const m = buildMixture([
      { calls: 50, meanMs: 1, stddevMs: 0 },
      { calls: 50, meanMs: 10, stddevMs: 0 },
    ])!;
    expect(mixtureQuantile(m, 0.5)).toBeCloseTo(1, 6);
    expect(mixtureQuantile(m, 0.95)).toBeCloseTo(10, 6);
  });

  it("has no mixture without calls", () => {
    expect(buildMixture([{ calls: 0, meanMs: 1, stddevMs: 1 }])).toBeUndefined();
    expect(buildMixture([])).toBeUndefined();
  });
});
