import { describe, expect, it } from "vitest";
import { detectQueryRegressions } from "../../../src/core/detect/query-regression";
import { queryWindowSchema, type QueryWindow } from "../../../src/core/detect/history";

const CONFIG = { baselineWindowMs: 6 * 3600_000, minBaselineWindows: 5, regressionThreshold: 0.2, sameLoadThreshold: 0.5, minExtraTimeMs: 50 };
const T0 = Date.parse("2025-03-01T12:00:00Z");

/** `baseline` windows of (mean, calls), one a minute, then the current window at T0. */
function history(queryid: string | number, baseline: Array<[number | null, number]>, current: [number | null, number], stepMs = 60_000): QueryWindow[] {
  const rows = baseline.map(([mean, calls], i) => ({
    queryid,
    snapshot_time: new Date(T0 - (baseline.length - i) * stepMs).toISOString(),
    calls,
    mean_exec_time_ms: mean,
  }));
  rows.push({ queryid, snapshot_time: new Date(T0).toISOString(), calls: current[1], mean_exec_time_ms: current[0] });
  return rows.map((r) => queryWindowSchema.parse(r));
}

const steady = (n: number, mean = 10, calls = 1000): Array<[number, number]> => Array.from({ length: n }, () => [mean, calls]);

describe("per-query regression (seed semantics)", () => {
  it("flags a query 50 % slower at the same call rate as same_load with pct 50", () => {
    const [r] = detectQueryRegressions(history("42", steady(10), [15, 1100]), CONFIG);
    expect(r).toMatchObject({ queryid: "42", load: "same_load", pct: 50, baseline_windows: 10 });
  });

  it("calls it changed_load when the call rate moved by more than 50 %", () => {
    expect(detectQueryRegressions(history(7, steady(10), [15, 2000]), CONFIG)[0]).toMatchObject({ queryid: "7", load: "changed_load" });
    expect(detectQueryRegressions(history(7, steady(10), [15, 400]), CONFIG)[0]!.load).toBe("changed_load");
    // exactly 50 % is still the same load
    expect(detectQueryRegressions(history(7, steady(10), [15, 1500]), CONFIG)[0]!.load).toBe("same_load");
  });

  it("needs more than +20 %: 20 % exactly is not a regression, 20.5 % is", () => {
    expect(detectQueryRegressions(history(1, steady(10), [12, 1000]), CONFIG)).toEqual([]);
    expect(detectQueryRegressions(history(1, steady(10), [12.05, 1000]), CONFIG)[0]!.pct).toBe(20.5);
  });

  it("waits for at least 5 baseline windows", () => {
    expect(detectQueryRegressions(history(1, steady(4), [30, 1000]), CONFIG)).toEqual([]);
    expect(detectQueryRegressions(history(1, steady(5), [30, 1000]), CONFIG)).toHaveLength(1);
  });

  it("uses only the trailing 6 hours as the baseline", () => {
    // 8 windows an hour apart: only the 5 newest (1–5 h old) are within 6 h… plus the one at 6 h.
    const old: Array<[number, number]> = [[100, 1000], [100, 1000], [10, 1000], [10, 1000], [10, 1000], [10, 1000], [10, 1000], [10, 1000]];
    const [r] = detectQueryRegressions(history(1, old, [15, 1000], 3600_000), CONFIG);
    expect(r!.baseline_windows).toBe(6);
    expect(r!.baseline_mean_ms).toBe(10);
  });

  it("skips windows without a mean and queries absent from the newest window", () => {
    const withNulls = history(1, [...steady(5), [null, 0], [null, 0]], [15, 1000]);
    expect(detectQueryRegressions(withNulls, CONFIG)[0]!.baseline_windows).toBe(5);
    const gone = history(2, steady(8), [15, 1000]).slice(0, -1);
    const other = history(3, steady(8), [10, 1000]);
    expect(detectQueryRegressions([...gone, ...other], CONFIG)).toEqual([]);
  });

  it("ignores a slowdown that adds less than 50 ms to the window (a µs statement run once)", () => {
    // BEGIN once a window: 0.0012 → 0.002 ms is +67 % but 0.0008 ms of extra time.
    expect(detectQueryRegressions(history(1, steady(8, 0.0012, 1), [0.002, 1]), CONFIG)).toEqual([]);
    // A 0.05 → 0.08 ms statement at 2 000 calls a window adds 60 ms: a regression.
    expect(detectQueryRegressions(history(1, steady(8, 0.05, 2000), [0.08, 2000]), CONFIG)[0]).toMatchObject({ pct: 60, load: "same_load" });
    expect(detectQueryRegressions(history(1, steady(8, 0.05, 1000), [0.08, 1000]), CONFIG)).toEqual([]);
  });

  it("treats a baseline without calls as changed load", () => {
    expect(detectQueryRegressions(history(1, steady(6, 10, 0), [15, 10]), CONFIG)[0]!.load).toBe("changed_load");
  });
});
