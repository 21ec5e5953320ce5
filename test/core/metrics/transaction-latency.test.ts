import { describe, expect, it } from "vitest";
import { buildMixture, estimateTransactionLatency, lognormalFromMoments, mixtureQuantile } from "../../../src/core/metrics";
import { createRng } from "../../../src/core/random";
import { empiricalQuantile } from "../../support/metrics-fixtures";

const drawFrom = (meanMs: number, sdMs: number, gauss: () => number) => {
  const d = lognormalFromMoments(meanMs, sdMs);
  return Math.exp(d.mu + d.sigma * gauss());
};

describe("per-transaction latency estimate", () => {
  it("with one statement per transaction and no overhead equals the statement mixture", () => {
    const mixture = buildMixture([
      { calls: 900, meanMs: 0.5, stddevMs: 0.2 },
      { calls: 100, meanMs: 20, stddevMs: 10 },
    ])!;
    const est = estimateTransactionLatency({ mixture, statementsPerTransaction: 1, meanTransactionMs: mixture.mean })!;
    expect(est.basis).toBe("transaction");
    for (const [p, got] of [
      [0.5, est.p50],
      [0.95, est.p95],
      [0.99, est.p99],
    ] as const) {
      expect(Math.abs(got / mixtureQuantile(mixture, p) - 1)).toBeLessThan(0.04);
    }
  });

  it("adds the time outside statements as an exponential with the measured remainder as mean", () => {
    const mixture = buildMixture([{ calls: 1000, meanMs: 1, stddevMs: 0.5 }])!;
    const est = estimateTransactionLatency({ mixture, statementsPerTransaction: 1, meanTransactionMs: 3 })!;
    expect(est.mean).toBe(3);
    const rng = createRng(11);
    const gauss = () => rng.normal();
    const direct: number[] = [];
    for (let i = 0; i < 200_000; i++) direct.push(drawFrom(1, 0.5, gauss) - Math.log(1 - rng.uniform()) * 2);
    for (const [p, got] of [
      [0.5, est.p50],
      [0.95, est.p95],
      [0.99, est.p99],
    ] as const) {
      expect(Math.abs(got / empiricalQuantile(direct, p) - 1), `p${p * 100}`).toBeLessThan(0.04);
    }
  });

  it("is deterministic (fixed seed)", () => {
    const mixture = buildMixture([{ calls: 10, meanMs: 1, stddevMs: 1 }])!;
    const a = estimateTransactionLatency({ mixture, statementsPerTransaction: 3.4, meanTransactionMs: 5 });
    const b = estimateTransactionLatency({ mixture, statementsPerTransaction: 3.4, meanTransactionMs: 5 });
    expect(a).toEqual(b);
  });

  it("without session statistics reports statement time only, labelled so", () => {
    const mixture = buildMixture([{ calls: 10, meanMs: 1, stddevMs: 0.1 }])!;
    const est = estimateTransactionLatency({ mixture, statementsPerTransaction: 2, meanTransactionMs: null })!;
    expect(est.basis).toBe("statements_only");
    expect(est.mean).toBeCloseTo(2, 9);
  });

  it("uses the moment approximation for very long transactions, consistent with simulation", () => {
    const mixture = buildMixture([
      { calls: 900, meanMs: 0.5, stddevMs: 0.3 },
      { calls: 100, meanMs: 5, stddevMs: 2 },
    ])!;
    const big = estimateTransactionLatency({ mixture, statementsPerTransaction: 200, meanTransactionMs: null })!;
    const justUnder = estimateTransactionLatency({ mixture, statementsPerTransaction: 64, meanTransactionMs: null })!;
    expect(big.p50 / 200).toBeCloseTo(justUnder.p50 / 64, 1);
    expect(big.p99).toBeGreaterThan(big.p50);
  });
});
