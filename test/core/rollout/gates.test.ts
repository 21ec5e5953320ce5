import { describe, expect, it } from "vitest";
import { baselineGate, canaryGate, compactSample, compareCanary, DEFAULT_GATE_THRESHOLDS, resultSummary, RolloutTimingsSchema, throughputMetricFor, type SubWindow } from "../../../src/core/rollout";
import { improvementScore } from "../../../src/core/optimize/objective";

const win = (tps: number, p99: number, queries: SubWindow["queries"] = [], at = "2026-03-01T12:00:00.000Z"): SubWindow => ({
  at,
  seconds: 10,
  tps,
  qps: tps * 3,
  latencyP99: p99,
  statementP99: p99 / 2,
  queries,
});

const baseline = [win(1000, 10), win(1010, 10.2), win(990, 9.8)];

describe("baseline gate (p99 +10 %, tps −10 %)", () => {
  it("passes a window within both limits", () => {
    const v = baselineGate(baseline, [win(950, 10.9), win(940, 10.8)], "latencyP99", DEFAULT_GATE_THRESHOLDS);
    expect(v.pass).toBe(true);
    expect(v.checks.map((c) => c.name)).toEqual(["tps", "p99"]);
  });

  it("fails on p99 just over +10 %, naming the metric and the limit", () => {
    const v = baselineGate(baseline, [win(1000, 11.1)], "latencyP99", DEFAULT_GATE_THRESHOLDS);
    expect(v.pass).toBe(false);
    expect(v.reason).toMatch(/p99 \+11\.0 % \(limit \+10 %\)/);
  });

  it("fails on tps just under −10 %", () => {
    const v = baselineGate(baseline, [win(895, 10)], "latencyP99", DEFAULT_GATE_THRESHOLDS);
    expect(v.pass).toBe(false);
    expect(v.reason).toMatch(/tps -10\.5 % \(limit −10 %\)/);
  });

  it("a window without rates cannot vouch for a change", () => {
    const v = baselineGate(baseline, [{ ...win(0, 0), tps: null, latencyP99: null }], "latencyP99", DEFAULT_GATE_THRESHOLDS);
    expect(v.pass).toBe(false);
    expect(v.reason).toMatch(/no rates measured/);
  });

  it("thresholds are named and can be changed", () => {
    const v = baselineGate(baseline, [win(1000, 11.1)], "latencyP99", { ...DEFAULT_GATE_THRESHOLDS, maxP99IncreasePct: 15 });
    expect(v.pass).toBe(true);
  });

  it("gates split windows on the statement p99 when asked", () => {
    const v = baselineGate(baseline, [{ ...win(1000, 100), statementP99: 5.6 }], "statementP99", DEFAULT_GATE_THRESHOLDS);
    expect(v.checks[1]).toMatchObject({ metric: "statementP99", pass: false });
  });
});

describe("canary vs primary on the same queries in the same window", () => {
  const q = (queryid: string, calls: number, meanMs: number) => ({ queryid, calls, meanMs, stddevMs: meanMs * 0.2 });
  const primary = [win(100, 5, [q("1", 900, 1), q("2", 90, 10), q("9", 50, 3)]), win(100, 5, [q("1", 880, 1.02), q("2", 95, 9.8)])];

  it("the calls-weighted geometric mean of per-query ratios, over common queries only", () => {
    const canary = [win(10, 5, [q("1", 100, 1.2), q("2", 10, 12)]), win(10, 5, [q("1", 110, 1.22), q("2", 12, 11.8), q("7", 5, 100)])];
    const c = compareCanary(primary, canary);
    expect(c.commonQueries).toBe(2);
    expect(c.ratio).toBeGreaterThan(1.18);
    expect(c.ratio).toBeLessThan(1.22);
    expect(c.interval).not.toBeNull();
    const v = canaryGate(c, DEFAULT_GATE_THRESHOLDS, false);
    expect(v.pass).toBe(false);
    expect(v.reason).toMatch(/canary latency \+\d+\.\d % vs primary over 2 common queries/);
  });

  it("a microsecond difference is not a slower client experience: the floor (0.1 ms) is added to both means", () => {
    const p = [win(100, 5, [q("1", 5000, 0.01)]), win(100, 5, [q("1", 5000, 0.01)])];
    const cold = [win(10, 5, [q("1", 500, 0.02)]), win(10, 5, [q("1", 500, 0.021)])];
    expect(compareCanary(p, cold, 0).ratio).toBeGreaterThan(2);
    const withFloor = compareCanary(p, cold);
    expect(withFloor.ratio).toBeCloseTo(0.1205 / 0.11, 2);
    expect(canaryGate(withFloor, DEFAULT_GATE_THRESHOLDS, true).pass).toBe(true);
  });

  it("a canary as fast as the primary passes", () => {
    const canary = [win(10, 5, [q("1", 100, 0.98), q("2", 10, 10)]), win(10, 5, [q("1", 100, 1.0), q("2", 10, 9.9)])];
    expect(canaryGate(compareCanary(primary, canary), DEFAULT_GATE_THRESHOLDS, true).pass).toBe(true);
  });

  it("too few canary calls: not judged at an intermediate step, no promotion at the last", () => {
    const canary = [win(1, 5, [q("1", 3, 5)]), win(1, 5, [q("1", 2, 5)])];
    const c = compareCanary(primary, canary);
    expect(canaryGate(c, DEFAULT_GATE_THRESHOLDS, false)).toMatchObject({ pass: true });
    const last = canaryGate(c, DEFAULT_GATE_THRESHOLDS, true);
    expect(last.pass).toBe(false);
    expect(last.reason).toMatch(/not enough evidence to promote/);
  });
});

describe("result summary: honest under noise", () => {
  it("improvement_pct is the objective's 60/40 score of the window means", () => {
    const result = [win(1100, 9), win(1105, 9.1), win(1095, 8.9)];
    const s = resultSummary(baseline, result, { comparison: "before_after" });
    expect(s.improvementPct).toBe(improvementScore({ tps: 1000, latencyP99: 10 }, { tps: 1100, latencyP99: 9 }));
    expect(s.claim).toBe("improvement");
    expect(s.improvementInterval![0]).toBeGreaterThan(0);
    expect(s.statement).toMatch(/^improvement \+10\.0 % \(95 % CI/);
  });

  it("a difference inside the noise is not claimed", () => {
    const noisyBase = [win(900, 10), win(1100, 11), win(1000, 9)];
    const result = [win(1150, 9), win(950, 11), win(1030, 10)];
    const s = resultSummary(noisyBase, result, { comparison: "before_after" });
    expect(s.claim).toBe("none");
    expect(s.improvementInterval![0]).toBeLessThan(0);
    expect(s.improvementInterval![1]).toBeGreaterThan(0);
    expect(s.statement).toMatch(/no difference distinguishable from noise/);
    expect(s.statement).toMatch(/not interleaved/);
  });

  it("a single sample on one side: no interval, nothing claimed", () => {
    const s = resultSummary(baseline, [win(2000, 5)], { comparison: "before_after" });
    expect(s.improvementInterval).toBeNull();
    expect(s.claim).toBe("none");
    expect(s.statement).toMatch(/nothing is claimed/);
  });

  it("a regression whose whole interval is below zero is called one", () => {
    const s = resultSummary(baseline, [win(700, 15), win(710, 15.2), win(690, 14.8)], { comparison: "before_after" });
    expect(s.claim).toBe("regression");
  });
});

describe("throughput metric and sample spacing", () => {
  it("tps from 10 s samples on; qps below (pg_stat_database flushes once a second per backend)", () => {
    expect(throughputMetricFor({ sampleEveryMs: 10_000 })).toBe("tps");
    expect(throughputMetricFor({ sampleEveryMs: 2_000 })).toBe("qps");
  });

  it("the gate and the summary judge the metric they are given, and say which", () => {
    const qpsDrop = [{ ...win(1000, 10), qps: 2000 }];
    const v = baselineGate(baseline, qpsDrop, "latencyP99", DEFAULT_GATE_THRESHOLDS, "qps");
    expect(v.checks[0]).toMatchObject({ metric: "qps", pass: false });
    expect(v.reason).toMatch(/qps -33\.\d %/);
    expect(resultSummary(baseline, qpsDrop, { comparison: "before_after", throughput: "qps" }).statement).toMatch(/qps 3000 → 2000\/s/);
  });

  it("samples closer than 1.5 s are refused (collect jitter would make windows shorter than derive's 1 s)", () => {
    expect(RolloutTimingsSchema.safeParse({ sampleEveryMs: 1_000 }).success).toBe(false);
    expect(RolloutTimingsSchema.parse({}).sampleEveryMs).toBe(10_000);
  });
});

describe("samples as the rollout keeps them", () => {
  it("drop query texts and pg2une's own statements (collector, canary share queries, connect_query)", async () => {
    const { sample, statement } = await import("../../support/metrics-fixtures");
    const s = sample({
      top: [
        statement("1", { query: "select * from orders where id = $1", calls: 10 }),
        statement("2", { query: "/* pg2une */ select s.queryid::text as queryid from pg_stat_statements s", calls: 3 }),
        statement("3", { query: "/* pg2une:collect */ begin", calls: 3 }),
        statement("4", { query: "/* pg2une */ SET default_transaction_read_only = on", calls: 20 }),
      ],
    });
    const compact = compactSample(s);
    expect(compact.statements.available && compact.statements.top.map((e) => [e.queryid, e.query])).toEqual([["1", null]]);
  });
});
