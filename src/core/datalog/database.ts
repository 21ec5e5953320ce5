/**
 * The result of evaluating a program: every relation, given and derived, with queries and
 * explanations. Immutable once built.
 */
import type { Fact, Value } from "./ast";
import { Engine, normalizeFacts, type EvaluateOptions, type EvaluationStats } from "./evaluate";
import { Explainer, type ExplainOptions, type Explanation } from "./explain";
import { orderTuples } from "./expr";
import type { FactMap, FactMapInput } from "./facts";
import { parseGroundAtom } from "./parser";
import type { Program } from "./program";

export class Database {
  constructor(
    private readonly engine: Engine,
    readonly stats: EvaluationStats,
  ) {}

  get program(): Program {
    return this.engine.program;
  }

  /** Whether the predicate appears in the program or the given facts. */
  knows(predicate: string): boolean {
    return this.engine.relations.has(predicate);
  }

  /** Every predicate with a relation (program's first, then ones only the facts mention). */
  predicates(): string[] {
    return [...this.engine.relations.keys()];
  }

  /** The predicate's facts in the order they were added (deterministic); [] if unknown. */
  query(predicate: string): ReadonlyArray<readonly Value[]> {
    const relation = this.engine.relations.get(predicate);
    if (relation === undefined) return [];
    return Array.from({ length: relation.size }, (_, seq) => relation.tuple(seq));
  }

  count(predicate: string): number {
    return this.engine.relations.get(predicate)?.size ?? 0;
  }

  has(predicate: string, args: readonly Value[]): boolean {
    const relation = this.engine.relations.get(predicate);
    return relation !== undefined && relation.arity === args.length && relation.find(args) >= 0;
  }

  /**
   * The fact-map shape the CLI prints: the given predicates (default: every predicate some rule
   * derives), facts sorted (numbers before texts) so output does not depend on rule order.
   */
  toFactMap(predicates: readonly string[] = this.program.derived): FactMap {
    const map: FactMap = {};
    for (const p of predicates) map[p] = this.query(p).map((t) => [...t]).sort(orderTuples);
    return map;
  }

  /**
   * The derivation tree of a fact (`"should_act(knobs)"` or `{predicate, args}`), or null if it
   * does not hold. Throws a syntax DatalogError if the text is not a ground atom.
   */
  explain(fact: string | Fact, options?: ExplainOptions): Explanation | null {
    const target = typeof fact === "string" ? parseGroundAtom(fact) : fact;
    return new Explainer(this.engine, options).explain({ predicate: target.predicate, args: target.args });
  }
}

/**
 * Evaluates a checked program over given facts (a fact map `{"pred": [[...], ...]}` or a list
 * of facts) plus the program's own facts.
 *
 * @example
 * const db = evaluate(parseProgram(rulesText), { metric_degraded: [["tps"]], high_confidence: [[]] });
 * db.query("should_act"); // [["knobs"]]
 */
export function evaluate(program: Program, facts: FactMapInput | readonly Fact[] = {}, options: EvaluateOptions = {}): Database {
  const engine = new Engine(program);
  engine.addGiven(program.facts);
  engine.addGiven(normalizeFacts(facts));
  engine.run(options.strategy ?? "semi-naive");
  return new Database(engine, { rounds: engine.round, derived: engine.derived });
}
