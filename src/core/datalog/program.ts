/**
 * A checked program: parsed, every predicate used with one arity, every rule safe, and the
 * rules stratified into components in evaluation order. parseProgram is the one entry point,
 * so nothing downstream ever sees an unchecked rule.
 */
import type { Atom, ParsedProgram, Position, Rule, SourceFact } from "./ast";
import { DatalogError } from "./errors";
import { parseSource } from "./parser";
import { analyzeRule, type RuleAnalysis } from "./safety";
import { stratify, type Component } from "./stratify";

export interface Program {
  facts: SourceFact[];
  rules: Rule[];
  /** analyses[rule.index] */
  analyses: RuleAnalysis[];
  components: Component[];
  arities: ReadonlyMap<string, number>;
  /** Every predicate the program mentions, in order of first appearance. */
  predicates: string[];
  /** Predicates some rule derives, in order of first appearance. */
  derived: string[];
}

export function checkProgram(parsed: ParsedProgram): Program {
  const arities = new Map<string, { arity: number; at: Position }>();
  const predicates: string[] = [];
  const note = (predicate: string, arity: number, at: Position): void => {
    const known = arities.get(predicate);
    if (known === undefined) {
      arities.set(predicate, { arity, at });
      predicates.push(predicate);
    } else if (known.arity !== arity) {
      throw new DatalogError(
        "arity",
        `predicate ${predicate} is used with ${arity} argument(s) here but with ${known.arity} at ${known.at.line}:${known.at.column}`,
        at,
      );
    }
  };
  const noteAtom = (atom: Atom): void => note(atom.predicate, atom.args.length, atom.at);
  // Program order (facts and rules interleaved as written) so "first use" means first in the file.
  const statements: Array<{ at: Position; visit: () => void }> = [
    ...parsed.facts.map((f) => ({ at: f.at, visit: () => note(f.predicate, f.args.length, f.at) })),
    ...parsed.rules.map((r) => ({
      at: r.at,
      visit: () => {
        noteAtom(r.head);
        for (const l of r.body) if (l.kind === "positive" || l.kind === "negative") noteAtom(l.atom);
      },
    })),
  ].sort((a, b) => a.at.line - b.at.line || a.at.column - b.at.column);
  for (const s of statements) s.visit();

  const analyses = parsed.rules.map(analyzeRule);
  const components = stratify(parsed.rules);
  const derived = [...new Set(parsed.rules.map((r) => r.head.predicate))];
  return {
    facts: parsed.facts,
    rules: parsed.rules,
    analyses,
    components,
    arities: new Map([...arities].map(([p, { arity }]) => [p, arity])),
    predicates,
    derived,
  };
}

/**
 * Parses and checks .dl text. Throws DatalogError (kind syntax | arity | unsafe | unstratifiable)
 * whose message starts with line:column.
 *
 * @example
 * const program = parseProgram(`path(X, Y) :- edge(X, Y).  path(X, Z) :- path(X, Y), edge(Y, Z).`);
 * evaluate(program, { edge: [[1, 2], [2, 3]] }).query("path"); // [[1, 2], [2, 3], [1, 3]]
 */
export function parseProgram(text: string): Program {
  return checkProgram(parseSource(text));
}
