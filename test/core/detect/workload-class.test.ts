import { describe, expect, it } from "vitest";
import { createRng } from "../../../src/core/random";
import { classFor, classifyWorkload } from "../../../src/core/detect/workload-class";
import { DEFAULT_DETECT_CONFIG } from "../../../src/core/detect/config";
import { queryWindowSchema, type QueryWindow, type SystemSnapshot } from "../../../src/core/detect/history";

const CONFIG = DEFAULT_DETECT_CONFIG.workload;
const T0 = Date.parse("2025-04-01T08:00:00Z");

type Shape = "oltp" | "olap" | "mixed";

/** One snapshot and its query windows, shaped like pgbench (oltp), an analytic mix (olap), or both. */
function window(i: number, shape: Shape, rng = createRng(i)): { snapshot: SystemSnapshot; queries: QueryWindow[] } {
  const time = new Date(T0 + i * 60_000).toISOString();
  const jitter = () => 1 + 0.1 * rng.normal();
  const short = { queryid: "1", calls: 60_000 * jitter(), mean_exec_time_ms: 0.4 * jitter(), rows_per_call: 1, shared_blks_hit: 0, shared_blks_read: 0 };
  short.shared_blks_hit = short.calls * 6;
  const long = { queryid: "2", calls: 30 * jitter(), mean_exec_time_ms: 1800 * jitter(), rows_per_call: 20, shared_blks_hit: 0, shared_blks_read: 0 };
  long.shared_blks_read = long.calls * 40_000;
  const queries =
    // mixed: a quarter of the OLTP traffic plus a tenth of the analytics, ~45 % of the time in each.
    shape === "oltp" ? [short] : shape === "olap" ? [long] : [{ ...short, calls: short.calls / 4 }, { ...long, calls: long.calls / 10 }];
  const snapshot: SystemSnapshot = {
    snapshot_time: time,
    tps: shape === "olap" ? 0.5 : shape === "oltp" ? 1000 * jitter() : 250 * jitter(),
    temp_bytes_per_sec: shape === "olap" ? 8e6 * jitter() : shape === "mixed" ? 2e6 * jitter() : 0,
  };
  return { snapshot, queries: queries.map((q) => queryWindowSchema.parse({ ...q, snapshot_time: time })) };
}

function run(shapes: Shape[]) {
  const windows = shapes.map((s, i) => window(i, s));
  return classifyWorkload(
    windows.map((w) => w.snapshot),
    windows.flatMap((w) => w.queries),
    CONFIG,
  );
}

describe("workload class", () => {
  it("calls short, index-sized statements at a high rate OLTP", () => {
    const r = run(Array(10).fill("oltp"));
    expect(r.class).toBe("oltp");
    expect(r.score).toBeLessThanOrEqual(-0.35);
    expect(r.shifts).toEqual([]);
  });

  it("calls long statements over many blocks with temp spill OLAP", () => {
    const r = run(Array(10).fill("olap"));
    expect(r.class).toBe("olap");
    expect(r.features!.long_time_share).toBeGreaterThan(0.9);
  });

  it("calls a workload that is half each Mixed", () => {
    const r = run(Array(10).fill("mixed"));
    expect(r.class).toBe("mixed");
  });

  it("does not flap when single windows look different, and confirms a real shift", () => {
    // Odd windows (a report query, a batch) in runs of up to two never make a shift.
    const flapping: Shape[] = ["oltp", "oltp", "oltp", "oltp", "olap", "oltp", "olap", "olap", "oltp", "mixed", "olap", "oltp", "oltp"];
    const noisy = run(flapping);
    expect(noisy.class).toBe("oltp");
    expect(noisy.shifts).toEqual([]);

    const shifted = run([...Array(10).fill("oltp"), ...Array(8).fill("olap")]);
    expect(shifted.class).toBe("olap");
    expect(shifted.shifts).toHaveLength(1);
    expect(shifted.shifts[0]).toMatchObject({ from: "oltp", to: "olap" });
    expect(shifted.shift_active).toBe(true);

    const long = run([...Array(10).fill("oltp"), ...Array(30).fill("olap")]);
    expect(long.shift_active).toBe(false); // the shift is older than shiftFreshness snapshots
  });

  it("keeps a class inside the hysteresis band and leaves it only past the exit threshold", () => {
    expect(classFor(0.25, "olap", CONFIG)).toBe("olap");
    expect(classFor(0.25, "mixed", CONFIG)).toBe("mixed");
    expect(classFor(0.1, "olap", CONFIG)).toBe("mixed");
    expect(classFor(-0.2, "oltp", CONFIG)).toBe("oltp");
    expect(classFor(-0.4, "olap", CONFIG)).toBe("oltp");
  });

  it("works from snapshots alone and has no class without any feature", () => {
    const snapshots: SystemSnapshot[] = Array.from({ length: 5 }, (_, i) => ({
      snapshot_time: new Date(T0 + i * 60_000).toISOString(),
      tps: 800,
      latency_mean: 1.2,
    }));
    expect(classifyWorkload(snapshots, [], CONFIG).class).toBe("oltp");
    const empty = snapshots.map((s) => ({ snapshot_time: s.snapshot_time, tps: null }));
    expect(classifyWorkload(empty, [], CONFIG)).toMatchObject({ class: null, score: null });
  });
});
