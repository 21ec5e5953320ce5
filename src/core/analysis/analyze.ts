/**
 * One analysis of one target, pure: detection over its history, the Durable Object's state as
 * facts, the decision rules over both, and the decision read back with its reasons. The Worker's
 * /api/analysis and the cron decision loop both call this (through src/analysis/analyze-target.ts,
 * which only loads the history), so what the API shows is what the loop acts on.
 *
 * @example
 *   const a = analyze(input, { nowMs: Date.now(), rollout: NO_ROLLOUT, program: decisionProgram() });
 *   a.decision.should_act; // ["knobs"]
 */
import { type Database, evaluate, type Program } from "../datalog";
import { DEFAULT_DETECT_CONFIG, type DetectConfig } from "../detect/config";
import { type DetectionReport, detect } from "../detect/detect";
import { type Fact, type FactMap, toFactMap } from "../detect/facts";
import type { DetectionInput } from "../detect/input";
import { type DecisionView, decisionOf } from "./decision";
import { baselineValidFrom, type RolloutInput, rolloutActive, rolloutFacts } from "./rollout";

export interface AnalyzeOptions {
  nowMs: number;
  rollout: RolloutInput;
  /** The parsed decision rules (rules/pg2une.dl). */
  program: Program;
  config?: DetectConfig;
}

export interface Analysis {
  report: DetectionReport;
  /** Every fact the rules saw: detection's and the rollout's. */
  facts: Fact[];
  factMap: FactMap;
  database: Database;
  decision: DecisionView;
  rollout: RolloutInput & { active: boolean };
  now: string;
}

export function analyze(input: DetectionInput, opts: AnalyzeOptions): Analysis {
  const config = opts.config ?? DEFAULT_DETECT_CONFIG;
  // The caller's baseline time (a CLI flag) wins; otherwise a promoted run resets the baselines.
  const validFrom = input.baseline_valid_from ?? baselineValidFrom(opts.rollout);
  const report = detect({ ...input, baseline_valid_from: validFrom }, config);
  const facts = [...report.facts, ...rolloutFacts(opts.rollout, opts.nowMs)];
  const factMap = toFactMap(facts);
  const database = evaluate(opts.program, factMap);
  return {
    report,
    facts,
    factMap,
    database,
    decision: decisionOf(database, report.confidence, config.confidence.highConfidence),
    rollout: { ...opts.rollout, active: rolloutActive(opts.rollout.state, opts.rollout.busy) },
    now: new Date(opts.nowMs).toISOString(),
  };
}
