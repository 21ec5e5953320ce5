/**
 * The decision rules as the Worker loads them: rules/pg2une.dl bundled as a text module
 * (wrangler.toml `[[rules]] type = "Text"`), parsed and checked once per isolate, evaluated on
 * every cron tick over the detection facts plus the Durable Object's state.
 */
import source from "../../rules/pg2une.dl";
import { evaluate, parseProgram, type Database, type FactMapInput, type Program } from "../core/datalog";

/** The text of rules/pg2une.dl as deployed. */
export const DECISION_RULES_SOURCE: string = source;

let program: Program | undefined;

/** The parsed rules; a broken rules file fails here with line:column (and in CI, by the tests). */
export function decisionProgram(): Program {
  program ??= parseProgram(DECISION_RULES_SOURCE);
  return program;
}

export interface Decision {
  /** The Action of every should_act(Action) fact, sorted; usually zero or one. */
  shouldAct: string[];
  /** Everything derived, for /api/analysis and explain("should_act(...)"). */
  database: Database;
}

/**
 * Evaluates the decision rules.
 *
 * @example
 * decide({ metric_degraded: [["tps"]], high_confidence: [[]], now: [[nowSeconds]] }).shouldAct; // ["knobs"]
 */
export function decide(facts: FactMapInput): Decision {
  const database = evaluate(decisionProgram(), facts);
  const shouldAct = (database.toFactMap(["should_act"]).should_act ?? []).map(([action]) => String(action));
  return { shouldAct, database };
}
