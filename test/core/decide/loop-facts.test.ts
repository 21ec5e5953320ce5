/**
 * What the cron loop feeds the rules from the Durable Object, and how it reads an analysis back:
 * busy counts as an active rollout whatever the state, the object's cooldown reaches the rules,
 * the last promotion restarts the CUSUM baselines even after a later rolled-back run, and the
 * tick record names the detectors that fired.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { analyze, rolloutFacts } from "../../../src/core/analysis";
import { parseProgram } from "../../../src/core/datalog";
import { DEFAULT_DETECT_CONFIG, type SystemSnapshot } from "../../../src/core/detect";
import { createRng } from "../../../src/core/random";
import { detectConfigOf, DetectionWindowsSchema } from "../../../src/decide/detection-windows";
import { cusumStates, detectorsOf, learningBaseline } from "../../../src/decide/tick-decision";

const program = parseProgram(readFileSync(fileURLToPath(new URL("../../../rules/pg2une.dl", import.meta.url)), "utf8"));
const T0 = Date.parse("2025-06-01T00:00:00Z");
const at = (i: number) => new Date(T0 + i * 60_000).toISOString();
const NOW = T0 + 100 * 60_000;

/** 100 one-minute snapshots; tps drops by 300 (15σ) for the newest 15. */
function degraded(): SystemSnapshot[] {
  const rng = createRng(3);
  return Array.from({ length: 100 }, (_, i) => ({
    snapshot_time: at(i),
    tps: 1000 + 20 * rng.normal() - (i >= 85 ? 300 : 0),
    latency_p99: 8 + 0.2 * rng.normal(),
    buffer_hit_ratio: 0.995,
    active_connections: 8,
  }));
}
const input = (snapshots: SystemSnapshot[]) => ({ snapshots, queries: [], baseline_valid_from: undefined });

describe("rollout facts from the Durable Object's status", () => {
  it("busy is an active rollout even in a resting state (a failed run still retrying its rollback)", () => {
    expect(rolloutFacts({ state: "failed", busy: true, lastOptimizationTime: null }, 5_000)).toContainEqual({ pred: "rollout_active", args: [] });
    expect(rolloutFacts({ state: "failed", busy: false, lastOptimizationTime: null }, 5_000)).not.toContainEqual({ pred: "rollout_active", args: [] });
    const a = analyze(input(degraded()), { nowMs: NOW, rollout: { state: "failed", busy: true, lastOptimizationTime: null }, program });
    expect(a.decision.should_act).toEqual([]);
    expect(a.decision.blocked).toEqual([{ action: "knobs", reason: "rollout_active" }]);
  });

  it("the object's cooldown is a rule fact: the longer of it and the rules' own holds", () => {
    const last = NOW - 400_000; // 400 s ago: past the rules' 300 s
    const free = analyze(input(degraded()), { nowMs: NOW, rollout: { state: "rolled_back", lastOptimizationTime: last, cooldownSeconds: 300 }, program });
    expect(free.decision.should_act).toEqual(["knobs"]);
    const held = analyze(input(degraded()), { nowMs: NOW, rollout: { state: "rolled_back", lastOptimizationTime: last, cooldownSeconds: 600 }, program });
    expect(held.factMap.cooldown_seconds).toEqual([[600]]);
    expect(held.decision.should_act).toEqual([]);
    expect(held.decision.blocked).toEqual([{ action: "knobs", reason: "cooldown" }]);
    expect(held.database.count("suppress_action")).toBe(1);
  });

  it("the last promotion restarts the baselines, even after a later run rolled back", () => {
    const promotedAt = T0 + 86 * 60_000; // after the drop: the drop is the new normal
    const a = analyze(input(degraded()), {
      nowMs: NOW,
      rollout: { state: "rolled_back", lastOptimizationTime: NOW - 400_000, baselineValidFrom: promotedAt },
      program,
    });
    expect(a.report.baseline_start).toMatchObject({ reason: "baseline_valid_from", snapshot_time: at(86) });
    expect(learningBaseline(a)).toBe(true);
    expect(a.factMap.metric_degraded).toBeUndefined();
    // Without it, the same history alarms.
    const b = analyze(input(degraded()), { nowMs: NOW, rollout: { state: "rolled_back", lastOptimizationTime: NOW - 400_000 }, program });
    expect(b.factMap.metric_degraded).toEqual([["tps"]]);
    expect(learningBaseline(b)).toBe(false);
  });
});

describe("the tick record's reading of an analysis", () => {
  it("names the detectors that fired and each metric's CUSUM", () => {
    const a = analyze(input(degraded()), { nowMs: NOW, rollout: { state: "idle", lastOptimizationTime: null }, program });
    expect(detectorsOf(a)).toEqual(expect.arrayContaining([expect.stringMatching(/^cusum\(tps, S=\d+\.\d > h=4\)$/), expect.stringMatching(/^e-divisive\(tps, magnitude 0\.\d\d\)$/)]));
    expect(cusumStates(a).tps).toMatchObject({ status: "monitoring", degraded: true, h: 4 });
    expect(cusumStates(a).latency_p99).toMatchObject({ status: "monitoring", degraded: false });
  });
});

describe("DETECTION_WINDOWS", () => {
  it("shortens window lengths only; the detectors' maths stay", () => {
    const c = detectConfigOf(DetectionWindowsSchema.parse({ cusumReferenceSize: 20 }));
    expect(c.cusum.referenceSize).toBe(20);
    expect(c.cusum.maxMonitorLength).toBe(DEFAULT_DETECT_CONFIG.cusum.maxMonitorLength);
    expect(c.cusum.metrics).toBe(DEFAULT_DETECT_CONFIG.cusum.metrics);
    expect(detectConfigOf({})).toBe(DEFAULT_DETECT_CONFIG);
  });

  it("rejects what is not a window length, naming the field", () => {
    expect(() => DetectionWindowsSchema.parse({ cusumReferenceSize: 2 })).toThrow(/cusumReferenceSize|>=10/);
    expect(() => DetectionWindowsSchema.parse({ k: 0.1 })).toThrow(/k/);
  });
});
