/**
 * The pure analysis: detection + rollout facts + the real rules/pg2une.dl + the decision view.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { analysisView, analyze, baselineValidFrom, NO_ROLLOUT, rolloutActive, rolloutFacts, statementsNotice } from "../../../src/core/analysis";
import { parseProgram } from "../../../src/core/datalog";
import { DEFAULT_DETECT_CONFIG, detect, type DetectionInput, type SystemSnapshot } from "../../../src/core/detect";
import { seasonalExpectation } from "../../../src/core/detect/seasonal";
import { PG_STAT_STATEMENTS_INSTRUCTION } from "../../../src/core/metrics";
import { createRng } from "../../../src/core/random";

const program = parseProgram(readFileSync(fileURLToPath(new URL("../../../rules/pg2une.dl", import.meta.url)), "utf8"));
const T0 = Date.parse("2025-06-01T00:00:00Z");
const at = (i: number) => new Date(T0 + i * 60_000).toISOString();

/** n one-minute snapshots; tps drops by `drop` for the newest `last` of them. */
function history(n: number, drop = 0, last = 0, seed = 1): SystemSnapshot[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => ({
    snapshot_time: at(i),
    tps: 1000 + 20 * rng.normal() - (i >= n - last ? drop : 0),
    latency_p99: 8 + 0.2 * rng.normal(),
    buffer_hit_ratio: 0.995,
    active_connections: 8,
  }));
}
const input = (snapshots: SystemSnapshot[], extra: Partial<DetectionInput> = {}): DetectionInput => ({ snapshots, queries: [], baseline_valid_from: undefined, ...extra });
const NOW = T0 + 100 * 60_000;

describe("rollout facts", () => {
  it("rollout_active() for every state but the resting ones; times in whole seconds", () => {
    for (const state of ["idle", "promoted", "rolled_back", "failed"]) expect(rolloutActive(state), state).toBe(false);
    for (const state of ["capturing_baseline", "optimizing", "direct", "canary"]) expect(rolloutActive(state), state).toBe(true);
    expect(rolloutFacts({ state: "canary", lastOptimizationTime: 1_700_000_000_999 }, 1_700_000_100_500)).toEqual([
      { pred: "rollout_active", args: [] },
      { pred: "last_optimization_time", args: [1_700_000_000] },
      { pred: "now", args: [1_700_000_100] },
    ]);
    expect(rolloutFacts(NO_ROLLOUT, 5_000)).toEqual([{ pred: "now", args: [5] }]);
  });

  it("a promoted run resets the baselines from its time; an explicit time wins", () => {
    expect(baselineValidFrom({ state: "promoted", lastOptimizationTime: T0 })).toBe(new Date(T0).toISOString());
    expect(baselineValidFrom({ state: "rolled_back", lastOptimizationTime: T0 })).toBeUndefined();
    expect(baselineValidFrom({ state: "idle", lastOptimizationTime: T0, baselineValidFrom: T0 + 1000 })).toBe(new Date(T0 + 1000).toISOString());
  });
});

describe("analyze()", () => {
  it("a tps drop → should_act(knobs), its derivation tree, and a one-line summary", () => {
    const a = analyze(input(history(100, 300, 15)), { nowMs: NOW, rollout: NO_ROLLOUT, program });
    expect(a.factMap.metric_degraded).toEqual([["tps"]]);
    expect(a.decision.should_act).toEqual(["knobs"]);
    expect(a.decision.why_text.knobs).toContain("metric_degraded(tps)  (given)");
    expect(a.decision.summary).toMatch(/^start knobs: tps degraded \(confidence 0\.[3-9]\d\)$/);
  });

  it("the cooldown holds a ready action back and says so", () => {
    const a = analyze(input(history(100, 300, 15)), { nowMs: NOW, rollout: { state: "idle", lastOptimizationTime: NOW - 60_000 }, program });
    expect(a.decision.should_act).toEqual([]);
    expect(a.decision.blocked).toEqual([{ action: "knobs", reason: "cooldown" }]);
    expect(a.decision.summary).toBe("hold knobs: cooldown");
    const later = analyze(input(history(100, 300, 15)), { nowMs: NOW, rollout: { state: "idle", lastOptimizationTime: NOW - 301_000 }, program });
    expect(later.decision.should_act).toEqual(["knobs"]);
  });

  it("a single weak signal is a candidate below the confidence gate, not an action", () => {
    // A degradation CUSUM sees but too small for E-Divisive's 10 % magnitude filter.
    const a = analyze(input(history(100, 60, 15)), { nowMs: NOW, rollout: NO_ROLLOUT, program });
    expect(a.factMap.metric_degraded).toEqual([["tps"]]);
    expect(a.factMap.otava_change_point).toBeUndefined();
    expect(a.decision.should_act).toEqual([]);
    expect(a.decision.candidates).toEqual(["knobs"]);
    expect(a.decision.summary).toBe("no action: knobs would help, but confidence 0.15 is below 0.30");
  });

  it("after a promoted run the old normal is forgotten: the lower tps is the new baseline", () => {
    const snapshots = history(200, 300, 110);
    const promotedAt = Date.parse(snapshots[95]!.snapshot_time);
    const before = analyze(input(snapshots), { nowMs: NOW, rollout: NO_ROLLOUT, program });
    expect(before.factMap.metric_degraded).toEqual([["tps"]]);
    const after = analyze(input(snapshots), { nowMs: NOW, rollout: { state: "promoted", lastOptimizationTime: promotedAt }, program });
    expect(after.report.baseline_start.reason).toBe("baseline_valid_from");
    expect(after.factMap.metric_degraded).toBeUndefined();
  });
});

describe("analysisView()", () => {
  it("groups the facts: metrics, queries, workload, change points, usl, seasonal, confidence, decision", () => {
    const a = analyze(input(history(100, 300, 15)), { nowMs: NOW, rollout: NO_ROLLOUT, program });
    const meta = { snapshots: 100, query_windows: 0, seasonal_points: 100, from: at(0), to: at(99), limits: {} };
    const v = analysisView(a, { target: "t", history: meta });
    expect(Object.keys(v)).toEqual([
      "target", "analyzed_at", "history", "pg_stat_statements", "notices", "metrics", "queries", "workload",
      "change_points", "usl", "seasonal", "confidence", "rollout", "facts", "decision",
    ]);
    expect(v.metrics.degraded).toEqual(["tps"]);
    expect(v.metrics.cusum.tps?.alarms.length).toBeGreaterThan(0);
    expect(v.change_points.find((c) => c.metric === "tps")?.confirms).toBe(true);
    expect(v.history.newest_age_seconds).toBe(60);
    expect(v.confidence.high).toBe(true);
    expect(v.decision.should_act).toEqual(["knobs"]);
    expect(JSON.parse(JSON.stringify(v))).toEqual(v); // plain JSON all the way down
  });

  it("carries the operator instruction when the history says pg_stat_statements is missing", () => {
    const snapshots = history(10).map((s) => ({
      ...s,
      pg_stat_statements: { available: false, reason: "not_preloaded", message: "pg_stat_statements is not loaded", instruction: PG_STAT_STATEMENTS_INSTRUCTION },
    }));
    const r = detect(input(snapshots));
    expect(r.pg_stat_statements).toMatchObject({ available: false, reason: "not_preloaded" });
    const v = analysisView(analyze(input(snapshots), { nowMs: NOW, rollout: NO_ROLLOUT, program }), {
      target: "t",
      history: { snapshots: 10, query_windows: 0, seasonal_points: 10, from: at(0), to: at(9), limits: {} },
    });
    expect(v.notices).toEqual([statementsNotice(r.pg_stat_statements!)]);
    expect(v.notices[0]).toContain(`pg_stat_statements is not loaded: ${PG_STAT_STATEMENTS_INSTRUCTION}`);
    expect(detect(input(history(10))).pg_stat_statements).toBeNull();
  });
});

describe("seasonal history", () => {
  it("bucket means plus the newest bucket's raw snapshots give the expectation the raw history gives", () => {
    const bucketMs = DEFAULT_DETECT_CONFIG.seasonal.bucketMs;
    const rng = createRng(3);
    // Three days of one-minute snapshots with a daily cycle, starting mid-bucket.
    const start = T0 + 7 * 60_000;
    const raw: SystemSnapshot[] = Array.from({ length: 3 * 1440 }, (_, i) => {
      const t = start + i * 60_000;
      return { snapshot_time: new Date(t).toISOString(), tps: 1000 + 300 * Math.sin((2 * Math.PI * t) / 86_400_000) + 20 * rng.normal(), latency_p99: 5 + rng.normal() * 0.1, buffer_hit_ratio: null };
    });
    const newestBucket = Math.floor(Date.parse(raw.at(-1)!.snapshot_time) / bucketMs);
    const sums = new Map<number, { tps: number; p99: number; n: number }>();
    const current: SystemSnapshot[] = [];
    for (const s of raw) {
      const b = Math.floor(Date.parse(s.snapshot_time) / bucketMs);
      if (b === newestBucket) current.push(s);
      else {
        const acc = sums.get(b) ?? { tps: 0, p99: 0, n: 0 };
        sums.set(b, { tps: acc.tps + s.tps!, p99: acc.p99 + s.latency_p99!, n: acc.n + 1 });
      }
    }
    const bucketed: SystemSnapshot[] = [...sums].map(([b, acc]) => ({ snapshot_time: new Date(b * bucketMs).toISOString(), tps: acc.tps / acc.n, latency_p99: acc.p99 / acc.n, buffer_hit_ratio: null }));
    for (const metric of ["tps", "latency_p99"] as const) {
      const fromRaw = seasonalExpectation(raw, metric, DEFAULT_DETECT_CONFIG.seasonal)!;
      const fromBuckets = seasonalExpectation([...bucketed, ...current], metric, DEFAULT_DETECT_CONFIG.seasonal)!;
      expect(fromRaw.method).toBe("holt_winters");
      expect(fromBuckets.method).toBe("holt_winters");
      expect(fromBuckets.expected).toBeCloseTo(fromRaw.expected, 9);
      expect(fromBuckets.lower).toBeCloseTo(fromRaw.lower, 9);
      expect(fromBuckets.value).toBe(fromRaw.value);
    }
    // detect() reads seasonal_history for the seasonal model only.
    const r = detect(input(raw.slice(-360), { seasonal_history: [...bucketed, ...current] }));
    expect(r.seasonal.find((e) => e.metric === "tps")?.method).toBe("holt_winters");
    expect(detect(input(raw.slice(-360))).seasonal.find((e) => e.metric === "tps")?.method).toBe("holt");
  });
});
