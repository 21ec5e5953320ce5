/**
 * pg2une's Datalog engine: Datalox's .dl syntax, safety, stratified negation and aggregation,
 * semi-naive evaluation with hash indexes, and derivation trees.
 *
 * @example
 * import { parseProgram, evaluate, formatExplanation } from "../core/datalog";
 * const program = parseProgram(rulesText);            // throws DatalogError with line:column
 * const db = evaluate(program, { metric_degraded: [["tps"]], high_confidence: [[]] });
 * db.query("should_act");                              // [["knobs"]]
 * formatExplanation(db.explain("should_act(knobs)")!);
 */
export type { AggregateFn, CompareOp, Fact, Position, Rule, Value } from "./ast";
export { Database, evaluate } from "./database";
export { DatalogError, type DatalogErrorKind } from "./errors";
export type { EvaluateOptions, EvaluationStats, Strategy } from "./evaluate";
export { DEFAULT_MAX_EXPLAIN_DEPTH, DEFAULT_MAX_EXPLAIN_NODES, type ExplainOptions, type Explanation, type Premise } from "./explain";
export { factMapSchema, factsFromMap, factsToMap, parseFactMap, PREDICATE_NAME, type FactMap, type FactMapInput } from "./facts";
export { formatExplanation, formatFact, formatValue } from "./format";
export { parseGroundAtom } from "./parser";
export { checkProgram, parseProgram, type Program } from "./program";
