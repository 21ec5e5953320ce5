/**
 * The rules load inside workerd exactly as the deployed Worker loads them (text module import
 * of rules/pg2une.dl through wrangler.toml's module rules) and decide correctly there.
 */
import { describe, expect, it } from "vitest";
import { formatExplanation } from "../../src/core/datalog";
import { DECISION_RULES_SOURCE, decide, decisionProgram } from "../../src/decide/rules";

describe("decision rules in the Worker", () => {
  it("imports rules/pg2une.dl as text and parses it", () => {
    expect(DECISION_RULES_SOURCE).toContain("should_act(Action) :-");
    expect(decisionProgram().derived).toEqual(
      expect.arrayContaining(["should_optimize", "action_ready", "suppress_action", "should_act", "otava_confirmed", "usl_warning"]),
    );
  });

  it("decides knobs for a degraded metric with high confidence, and explains it", () => {
    const { shouldAct, database } = decide({ metric_degraded: [["tps"]], high_confidence: [[]], now: [[1000]], last_optimization_time: [[100]] });
    expect(shouldAct).toEqual(["knobs"]);
    const why = formatExplanation(database.explain("should_act(knobs)")!);
    expect(why).toContain("metric_degraded(tps)  (given)");
    expect(why).toContain("high_confidence()  (given)");
  });

  it("starts nothing while a rollout runs or within the cooldown", () => {
    expect(decide({ metric_degraded: [["tps"]], high_confidence: [[]], rollout_active: [[]] }).shouldAct).toEqual([]);
    expect(decide({ metric_degraded: [["tps"]], high_confidence: [[]], now: [[1000]], last_optimization_time: [[900]] }).shouldAct).toEqual([]);
  });
});
