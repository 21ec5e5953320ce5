import { describe, expect, it } from "vitest";
import { createRng } from "../../../src/core/random";
import { cusumStep, detectCusum, runLength, twoSidedRunLength } from "../../../src/core/detect/cusum";
import type { SystemSnapshot } from "../../../src/core/detect/history";

/**
 * Montgomery, Introduction to Statistical Quality Control (6th ed.), Table 9.3: ARL of the
 * (two-sided) tabular CUSUM for a mean shift of δ standard deviations, k = 1/2.
 */
const MONTGOMERY_K_HALF: Array<{ h: number; shift: number; arl: number }> = [
  { h: 4, shift: 0, arl: 168 },
  { h: 4, shift: 1, arl: 8.38 },
  { h: 4, shift: 2, arl: 3.34 },
  { h: 5, shift: 0, arl: 465 },
  { h: 5, shift: 1, arl: 10.4 },
];
const RUNS = 4000;

describe("CUSUM recursion", () => {
  it.each(MONTGOMERY_K_HALF)("reproduces Montgomery's ARL for k=0.5, h=$h, shift $shift σ within 10 %", ({ h, shift, arl }) => {
    const rng = createRng(20240611 + h * 10 + shift);
    let total = 0;
    for (let run = 0; run < RUNS; run++) total += twoSidedRunLength(() => rng.normal() + shift, 0.5, h);
    const simulated = total / RUNS;
    console.log(`two-sided k=0.5 h=${h} shift=${shift}σ: simulated ARL ${simulated.toFixed(2)} vs Montgomery ${arl} (${RUNS} runs)`);
    expect(Math.abs(simulated - arl) / arl).toBeLessThan(0.1);
  });

  it.each([
    { h: 4, arl: 2 * 168 },
    { h: 5, arl: 2 * 465 },
  ])("the one-sided CUSUM we run has twice the in-control ARL (k=0.5, h=$h → ≈ $arl)", ({ h, arl }) => {
    // In control the two sides are independent-ish and symmetric: 1/ARL_two ≈ 2/ARL_one.
    const rng = createRng(99 + h);
    let total = 0;
    for (let run = 0; run < RUNS; run++) total += runLength(() => rng.normal(), 0.5, h);
    const simulated = total / RUNS;
    console.log(`one-sided k=0.5 h=${h} in control: simulated ARL ${simulated.toFixed(1)} vs 2×table ${arl}`);
    expect(Math.abs(simulated - arl) / arl).toBeLessThan(0.1);
  });

  it("never goes below zero and accumulates only beyond the allowance k", () => {
    expect(cusumStep(0, 0.4, 0.5)).toBe(0);
    expect(cusumStep(1, 1.5, 0.5)).toBe(2);
    expect(cusumStep(0.2, -3, 0.5)).toBe(0);
  });
});

function snapshots(values: Array<number | null>, metric: "tps" | "latency_p99" | "buffer_hit_ratio" = "tps"): SystemSnapshot[] {
  const start = Date.parse("2025-01-01T00:00:00Z");
  return values.map((v, i) => ({ snapshot_time: new Date(start + i * 60_000).toISOString(), [metric]: v }));
}

const TPS = { metric: "tps", degradation: "down", k: 0.5, h: 4, sigmaFloor: { relative: 0.02, absolute: 1e-9 } } as const;
const WINDOW = { referenceSize: 30, maxMonitorLength: 120 };

describe("detectCusum on a history", () => {
  it("alarms soon after a 2σ drop in tps and not before", () => {
    const rng = createRng(7);
    const values = Array.from({ length: 200 }, (_, i) => 1000 + 50 * rng.normal() - (i >= 120 ? 100 : 0));
    const result = detectCusum(snapshots(values), TPS, WINDOW);
    expect(result.status).toBe("monitoring");
    expect(result.alarms[0]!.index).toBeGreaterThanOrEqual(120);
    expect(result.alarms[0]!.index).toBeLessThanOrEqual(130);
    expect(result.degraded).toBe(true);
  });

  it("ignores an improvement (tps up) because tps degrades downwards", () => {
    const rng = createRng(8);
    const values = Array.from({ length: 150 }, (_, i) => 1000 + 50 * rng.normal() + (i >= 60 ? 300 : 0));
    expect(detectCusum(snapshots(values), TPS, WINDOW).alarms).toEqual([]);
  });

  it("watches latency upwards", () => {
    const rng = createRng(9);
    const values = Array.from({ length: 100 }, (_, i) => 5 + 0.5 * rng.normal() + (i >= 60 ? 1.5 : 0));
    const result = detectCusum(snapshots(values, "latency_p99"), { ...TPS, metric: "latency_p99", degradation: "up" }, WINDOW);
    expect(result.alarms[0]!.index).toBeGreaterThanOrEqual(60);
    expect(result.degraded).toBe(true);
  });

  it("does not alarm on tiny noise around a flat baseline thanks to the σ floor", () => {
    // Hit ratio flat at 0.99 with a wobble of 1e-6: the MAD is ~1e-6, the floor 0.1 % of 0.99.
    const rng = createRng(10);
    const values = Array.from({ length: 150 }, (_, i) => 0.99 + 1e-6 * rng.normal() - (i >= 100 ? 5e-5 : 0));
    const result = detectCusum(
      snapshots(values, "buffer_hit_ratio"),
      { metric: "buffer_hit_ratio", degradation: "down", k: 0.3, h: 3, sigmaFloor: { relative: 0.001, absolute: 1e-6 } },
      WINDOW,
    );
    expect(result.baseline!.floored).toBe(true);
    expect(result.alarms).toEqual([]);
  });

  it("skips nulls instead of reading them as zero", () => {
    // Noise well under the σ floor (2 % of 1000), so only a null read as 0 could alarm here.
    const rng = createRng(11);
    const values = Array.from({ length: 120 }, (_, i) => (i % 7 === 3 ? null : 1000 + 5 * rng.normal()));
    const result = detectCusum(snapshots(values), TPS, WINDOW);
    expect(result.alarms).toEqual([]);
    expect(result.monitored_points).toBe(values.filter((v) => v !== null).length - 30);
  });

  it("learns a new baseline from the given start (after a promoted run)", () => {
    const rng = createRng(12);
    const values = Array.from({ length: 140 }, (_, i) => 1000 + 20 * rng.normal() - (i >= 50 ? 200 : 0));
    const history = snapshots(values);
    expect(detectCusum(history, TPS, WINDOW).degraded).toBe(true);
    const relearned = detectCusum(history, TPS, WINDOW, 50);
    expect(relearned.reference!.from).toBe(50);
    expect(relearned.degraded).toBe(false);
  });

  it("stays in learning_baseline until the reference window is full", () => {
    const result = detectCusum(snapshots([1000, 1001, 999]), TPS, WINDOW);
    expect(result.status).toBe("learning_baseline");
    expect(result.alarms).toEqual([]);
  });
});
