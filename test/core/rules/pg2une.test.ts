/**
 * The seed's decision table, run against the real rules/pg2une.dl (the file operators edit).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { evaluate, formatExplanation, parseFactMap, parseProgram, type FactMapInput } from "../../../src/core/datalog";

const RULES_PATH = fileURLToPath(new URL("../../../rules/pg2une.dl", import.meta.url));
const program = parseProgram(readFileSync(RULES_PATH, "utf8"));

/** Facts the way detection emits them, plus what the Durable Object adds. */
const QUERY_REGRESSION = { query_regression: [[42, "same_load", 35.0]] };
const CHANGED_LOAD = { query_regression: [["q7", "changed_load", 80.5]] };
const DEGRADED = { metric_degraded: [["tps"]], cusum_degradation: [["tps", 6.2]], metric_value: [["tps", 812.4]] };
const CONFIDENT = { high_confidence: [[]] };
const NOW = 1_000_000;

function decide(...parts: FactMapInput[]) {
  const facts = parseFactMap(Object.assign({ now: [[NOW]], workload: [["oltp"]] }, ...parts));
  return evaluate(program, facts);
}
const shouldAct = (...parts: FactMapInput[]) => decide(...parts).toFactMap(["should_act"]).should_act;

describe("rules/pg2une.dl: the seed's decision table", () => {
  it("query-only regression at the same load → should_act(queries)", () => {
    expect(shouldAct(QUERY_REGRESSION, CONFIDENT)).toEqual([["queries"]]);
  });

  it("metric degradation only → should_act(knobs)", () => {
    expect(shouldAct(DEGRADED, CONFIDENT)).toEqual([["knobs"]]);
  });

  it("both signals → should_act(holistic), and only holistic", () => {
    expect(shouldAct(DEGRADED, QUERY_REGRESSION, CONFIDENT)).toEqual([["holistic"]]);
    expect(shouldAct(DEGRADED, CHANGED_LOAD, CONFIDENT)).toEqual([["holistic"]]);
  });

  it("without high_confidence() nothing acts, whatever the signals", () => {
    for (const signals of [QUERY_REGRESSION, DEGRADED, { ...DEGRADED, ...QUERY_REGRESSION }]) {
      const db = decide(signals);
      expect(db.query("should_act")).toEqual([]);
      expect(db.query("should_optimize")).toHaveLength(1); // the signal was seen, only not trusted
    }
  });

  it("a query regression under changed load alone is not a query problem", () => {
    expect(shouldAct(CHANGED_LOAD, CONFIDENT)).toEqual([]);
  });

  it("last run 100 s ago → suppressed (cooldown 300 s); the block is explained", () => {
    const db = decide(DEGRADED, CONFIDENT, { last_optimization_time: [[NOW - 100]] });
    expect(db.query("should_act")).toEqual([]);
    expect(db.query("action_blocked")).toEqual([["knobs", "cooldown"]]);
  });

  it("last run 400 s ago → acts; exactly 300 s ago → acts", () => {
    expect(shouldAct(DEGRADED, CONFIDENT, { last_optimization_time: [[NOW - 400]] })).toEqual([["knobs"]]);
    expect(shouldAct(DEGRADED, CONFIDENT, { last_optimization_time: [[NOW - 300]] })).toEqual([["knobs"]]);
    expect(shouldAct(DEGRADED, CONFIDENT, { last_optimization_time: [[NOW - 299]] })).toEqual([]);
  });

  it("workload_shift() blocks a queries action (baselines are not comparable) but not holistic", () => {
    expect(shouldAct(QUERY_REGRESSION, CONFIDENT, { workload_shift: [[]] })).toEqual([]);
    expect(shouldAct(DEGRADED, QUERY_REGRESSION, CONFIDENT, { workload_shift: [[]] })).toEqual([["holistic"]]);
  });

  it("rollout_active() blocks every action", () => {
    for (const signals of [QUERY_REGRESSION, DEGRADED, { ...DEGRADED, ...QUERY_REGRESSION }]) {
      const db = decide(signals, CONFIDENT, { rollout_active: [[]] });
      expect(db.query("should_act")).toEqual([]);
      expect(db.query("action_blocked")).toEqual([[db.query("action_ready")[0]![0], "rollout_active"]]);
    }
  });

  it("explain(should_act(knobs)) names metric_degraded and high_confidence", () => {
    const db = decide(DEGRADED, CONFIDENT, { last_optimization_time: [[NOW - 900]] });
    const tree = db.explain("should_act(knobs)")!;
    const text = formatExplanation(tree);
    expect(text).toContain("metric_degraded(tps)  (given)");
    expect(text).toContain("high_confidence()  (given)");
    expect(text).toContain("not suppress_action()  (no such fact)");
    expect(text).toContain("not rollout_active()  (no such fact)");
    expect(text.split("\n")[0]).toMatch(/^should_act\(knobs\) {2}<- rule at line \d+: should_act\(Action\) :- action_ready\(Action\), not suppress_action\(\), not rollout_active\(\)\.$/);
  });

  it("the CLI acceptance facts decide knobs", () => {
    const db = evaluate(program, parseFactMap({ metric_degraded: [["tps"]], high_confidence: [[]], now: [[1000]], last_optimization_time: [[100]] }));
    expect(db.toFactMap(["should_act"])).toEqual({ should_act: [["knobs"]] });
  });

  it("informational rules: otava_confirmed above 10 % magnitude, usl_warning below -15 % deviation", () => {
    const db = decide({ otava_change_point: [["tps", 0.35], ["latency_p99", 0.05]], usl_deviation: [[-0.18]] });
    expect(db.toFactMap(["otava_confirmed", "usl_warning", "should_act"])).toEqual({ otava_confirmed: [["tps"]], usl_warning: [[]], should_act: [] });
    expect(decide({ usl_deviation: [[-0.1]] }).query("usl_warning")).toEqual([]);
  });
});
