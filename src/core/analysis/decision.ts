/**
 * The decision as /api/analysis shows it, read from an evaluated rules database: what pg2une
 * would start now (should_act), what is ready but held back (action_blocked, with the reason),
 * what the rules wanted before the confidence gate (should_optimize), the derivation tree of
 * each should_act, and one plain sentence that says it all.
 *
 * @example
 *   const d = decisionOf(evaluate(program, facts), confidence);
 *   d.summary; // "start knobs: tps degraded (confidence 0.30)"
 */
import type { Confidence } from "../detect/confidence";
import { type Database, type Explanation, formatExplanation, type Value } from "../datalog";

export interface Blocked {
  action: string;
  /** The reason atom from action_blocked(Action, Reason): cooldown, rollout_active, … */
  reason: string;
}

export interface DecisionView {
  /** Actions to start now (should_act), sorted; usually zero or one. */
  should_act: string[];
  /** Ready actions a gate holds back (action_blocked). */
  blocked: Blocked[];
  /** What the rules would do, before the confidence gate (should_optimize). */
  candidates: string[];
  /** Derivation tree of each should_act(Action), keyed by action. */
  why: Record<string, Explanation>;
  /** The same trees as indented text, for humans. */
  why_text: Record<string, string>;
  /** Informational conclusions of the rules (never trigger anything). */
  notes: { otava_confirmed: string[]; usl_warning: boolean };
  /** One sentence: what happens and why. */
  summary: string;
}

const text = (v: Value) => String(v);

export function decisionOf(database: Database, confidence: Confidence, highConfidence: number): DecisionView {
  const unary = (predicate: string) => [...new Set(database.query(predicate).map((t) => text(t[0]!)))].sort();
  const shouldAct = unary("should_act");
  const candidates = unary("should_optimize");
  const blocked = database
    .query("action_blocked")
    .map(([action, reason]) => ({ action: text(action!), reason: text(reason!) }))
    .sort((a, b) => a.action.localeCompare(b.action) || a.reason.localeCompare(b.reason));
  const why: Record<string, Explanation> = {};
  const whyText: Record<string, string> = {};
  for (const action of shouldAct) {
    const tree = database.explain({ predicate: "should_act", args: [action] });
    if (tree) {
      why[action] = tree;
      whyText[action] = formatExplanation(tree);
    }
  }
  const degraded = unary("metric_degraded");
  const score = confidence.score.toFixed(2);
  let summary: string;
  if (shouldAct.length > 0) {
    const cause = degraded.length > 0 ? `${degraded.join(", ")} degraded` : "queries regressed at the same load";
    summary = `start ${shouldAct.join(", ")}: ${cause} (confidence ${score})`;
  } else if (blocked.length > 0) {
    summary = `hold ${[...new Set(blocked.map((b) => b.action))].join(", ")}: ${[...new Set(blocked.map((b) => b.reason))].join(", ")}`;
  } else if (candidates.length > 0) {
    summary = `no action: ${candidates.join(", ")} would help, but confidence ${score} is below ${highConfidence.toFixed(2)}`;
  } else {
    summary = "no action: nothing degraded and no query regressed";
  }
  return {
    should_act: shouldAct,
    blocked,
    candidates,
    why,
    why_text: whyText,
    notes: { otava_confirmed: unary("otava_confirmed"), usl_warning: database.count("usl_warning") > 0 },
    summary,
  };
}
