import { describe, expect, it } from "vitest";
import { createRng } from "../../../src/core/random";
import { fitUsl, linearizedUsl, uslDeviation, uslThroughput } from "../../../src/core/detect/usl";

describe("USL fit", () => {
  it("reproduces the R usl package's coef test: σ = 0.02, κ = 0.02, λ = 1", () => {
    // smoeding/usl tests/coef.R
    const load = [1, 2, 4, 6, 8, 10];
    const tput = [1, 1.8868, 3.0769, 3.5294, 3.5398, 3.3557];
    const fit = fitUsl(load.map((n, i) => ({ concurrency: n, throughput: tput[i]! })));
    expect(fit.sigma).toBeCloseTo(0.02, 3);
    expect(fit.kappa).toBeCloseTo(0.02, 3);
    expect(fit.lambda).toBeCloseTo(1, 3);
  });

  // Gunther, Guerrilla Capacity Planning (2007): Sun SPARCcenter 2000 in SPEC SDM91 (R usl's specsdm91).
  const SPECSDM91 = [
    [1, 64.9],
    [18, 995.9],
    [36, 1652.4],
    [72, 1853.2],
    [108, 1828.9],
    [144, 1775.0],
    [216, 1702.2],
  ].map(([n, x]) => ({ concurrency: n!, throughput: x! }));

  it("finds SPEC SDM91's peak where the R usl package does (N* = 96.51956)", () => {
    // smoeding/usl tests/peak-scalability.R: all.equal(peak.scalability(u), 96.51956, 0.0001)
    const fit = fitUsl(SPECSDM91);
    console.log(`SPEC SDM91: λ=${fit.lambda.toFixed(3)} σ=${fit.sigma.toExponential(4)} κ=${fit.kappa.toExponential(4)} N*=${fit.peak_concurrency.toFixed(5)}`);
    expect(Math.abs(fit.peak_concurrency - 96.51956) / 96.51956).toBeLessThan(1e-3);
  });

  it("Gunther's linearization with λ = X(1) = 64.9 gives the usl 1.x README's σ = 1.705e-02, κ = 7.892e-05", () => {
    const model = linearizedUsl(SPECSDM91, 64.9);
    expect(model.sigma).toBeCloseTo(0.01705, 5);
    expect(model.kappa / 7.892e-5).toBeCloseTo(1, 3);
    // … and the README's residual extremes, -70.89 and 274.88.
    const residuals = SPECSDM91.map((p) => p.throughput - uslThroughput(model, p.concurrency));
    expect(Math.min(...residuals)).toBeCloseTo(-70.89, 2);
    expect(Math.max(...residuals)).toBeCloseTo(274.88, 2);
  });

  it("the least-squares fit beats the linearization on SPEC SDM91", () => {
    const sse = (m: { lambda: number; sigma: number; kappa: number }) =>
      SPECSDM91.reduce((s, p) => s + (p.throughput - uslThroughput(m, p.concurrency)) ** 2, 0);
    expect(sse(fitUsl(SPECSDM91, { fixedLambda: 64.9 }))).toBeLessThan(sse(linearizedUsl(SPECSDM91, 64.9)));
  });

  it("recovers known (σ, κ) within 10 % from noisy data", () => {
    const truth = { lambda: 120, sigma: 0.05, kappa: 0.0008 };
    for (let seed = 1; seed <= 10; seed++) {
      const rng = createRng(seed);
      const points = [1, 2, 4, 8, 12, 16, 24, 32, 48, 64].map((n) => ({
        concurrency: n,
        throughput: uslThroughput(truth, n) * (1 + 0.01 * rng.normal()),
      }));
      const fit = fitUsl(points);
      expect(Math.abs(fit.sigma - truth.sigma) / truth.sigma).toBeLessThan(0.1);
      expect(Math.abs(fit.kappa - truth.kappa) / truth.kappa).toBeLessThan(0.1);
      expect(Math.abs(fit.lambda - truth.lambda) / truth.lambda).toBeLessThan(0.1);
    }
  });

  it("keeps σ and κ non-negative on superlinear data", () => {
    const fit = fitUsl([1, 2, 4, 8].map((n) => ({ concurrency: n, throughput: 10 * n ** 1.05 })));
    expect(fit.sigma).toBeGreaterThanOrEqual(0);
    expect(fit.kappa).toBeGreaterThanOrEqual(0);
  });

  it("measures the current point's deviation from the curve", () => {
    const model = { lambda: 100, sigma: 0.1, kappa: 0 };
    const predicted = uslThroughput(model, 10); // 1000 / 1.9
    expect(uslDeviation(model, { concurrency: 10, throughput: predicted * 0.8 })).toBeCloseTo(-0.2, 10);
  });

  it("rejects unusable points", () => {
    expect(() => fitUsl([{ concurrency: 1, throughput: 1 }])).toThrow(/at least 3/);
    expect(() => fitUsl([0, 1, 2].map((n) => ({ concurrency: n, throughput: 1 })))).toThrow(/concurrency ≥ 1/);
  });
});
