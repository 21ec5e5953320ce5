/**
 * Range restriction: every variable in the head, in a negated atom, in a comparison or in an
 * aggregate must be bound by a positive body atom or by an assignment `V = expr` whose
 * right-hand side is bound. Otherwise the rule would derive infinitely many (or arbitrary)
 * facts, so it is rejected with the variable, the rule and the line named.
 *
 * For a rule with aggregates this also works out which variables are the group (the head's
 * variables bound before aggregating) and which conditions run after aggregating.
 */
import type { Atom, Expr, Literal, Position, Rule } from "./ast";
import { DatalogError } from "./errors";

export function exprVars(expr: Expr, into: string[] = []): string[] {
  switch (expr.kind) {
    case "var":
      into.push(expr.name);
      break;
    case "binary":
      exprVars(expr.left, into);
      exprVars(expr.right, into);
      break;
    case "negate":
      exprVars(expr.operand, into);
      break;
    default:
      break;
  }
  return into;
}

export function atomVars(atom: Atom): string[] {
  return atom.args.flatMap((a) => (a.kind === "var" ? [a.name] : []));
}

export function literalVars(literal: Literal): string[] {
  switch (literal.kind) {
    case "positive":
    case "negative":
      return atomVars(literal.atom);
    case "compare":
      return [...exprVars(literal.left), ...exprVars(literal.right)];
    case "aggregate":
      return [literal.result, ...literal.args.flatMap((a) => (a.kind === "var" ? [a.name] : []))];
  }
}

/** If `literal` is `V = expr` (or `expr = V`) with V unbound and expr bound, the V it assigns. */
export function assignedVar(literal: Literal, bound: ReadonlySet<string>): string | undefined {
  if (literal.kind !== "compare" || literal.op !== "=") return undefined;
  const { left, right } = literal;
  if (left.kind === "var" && !bound.has(left.name) && exprVars(right).every((v) => bound.has(v))) return left.name;
  if (right.kind === "var" && !bound.has(right.name) && exprVars(left).every((v) => bound.has(v))) return right.name;
  return undefined;
}

export interface RuleAnalysis {
  /** Head variables bound before aggregation, in head order; empty for a plain rule. */
  groupVars: string[];
  /** Aggregate results and everything computed from them. */
  postAggregateVars: Set<string>;
  /** Body literal indexes that run after aggregation (conditions on aggregate results). */
  postAggregateLiterals: Set<number>;
  hasAggregates: boolean;
}

function unsafe(rule: Rule, variable: string, where: string, at: Position): never {
  throw new DatalogError(
    "unsafe",
    `unsafe rule at line ${rule.at.line}: variable ${variable} ${where} is not bound by a positive atom or an assignment (rule: ${rule.text})`,
    at,
  );
}

function firstVarPosition(literal: Literal, name: string): Position {
  const find = (e: Expr): Position | undefined => {
    if (e.kind === "var" && e.name === name) return e.at;
    if (e.kind === "binary") return find(e.left) ?? find(e.right);
    if (e.kind === "negate") return find(e.operand);
    return undefined;
  };
  switch (literal.kind) {
    case "positive":
    case "negative":
      return literal.atom.args.map(find).find((p) => p !== undefined) ?? literal.atom.at;
    case "compare":
      return find(literal.left) ?? find(literal.right) ?? literal.at;
    case "aggregate":
      return literal.args.map(find).find((p) => p !== undefined) ?? literal.at;
  }
}

function describeLiteral(literal: Literal): string {
  switch (literal.kind) {
    case "negative":
      return `in the negated atom not ${literal.atom.predicate}(...)`;
    case "compare":
      return `in a comparison (${literal.op})`;
    case "aggregate":
      return `in the aggregate ${literal.fn}(...)`;
    default:
      return "in a positive atom";
  }
}

/** A literal's variables with what it reads before what it could assign (the root cause first). */
function inputsFirst(literal: Literal): string[] {
  if (literal.kind === "aggregate") return [...literal.args.flatMap((a) => (a.kind === "var" ? [a.name] : [])), literal.result];
  if (literal.kind === "compare" && literal.op === "=") {
    if (literal.left.kind === "var") return [...exprVars(literal.right), literal.left.name];
    if (literal.right.kind === "var") return [...exprVars(literal.left), literal.right.name];
  }
  return literalVars(literal);
}

/** Throws an "unsafe" DatalogError, or returns how the rule's variables are bound. */
export function analyzeRule(rule: Rule): RuleAnalysis {
  for (const arg of rule.head.args) {
    if (arg.kind === "wildcard") {
      throw new DatalogError("unsafe", `unsafe rule at line ${rule.at.line}: '_' in the head; every head argument must be a constant or a variable bound in the body (rule: ${rule.text})`, arg.at);
    }
  }

  // Which variables the body can bind, in any order: positive atoms, then assignments and
  // aggregates whose inputs are bound, until nothing changes.
  const bound = new Set<string>();
  for (const literal of rule.body) if (literal.kind === "positive") for (const v of atomVars(literal.atom)) bound.add(v);
  const aggregates = rule.body.flatMap((l) => (l.kind === "aggregate" ? [l] : []));
  const postAggregateVars = new Set(aggregates.map((a) => a.result));
  for (let changed = true; changed; ) {
    changed = false;
    for (const literal of rule.body) {
      const assigned = assignedVar(literal, bound);
      if (assigned !== undefined) {
        bound.add(assigned);
        if (literalVars(literal).some((v) => postAggregateVars.has(v))) postAggregateVars.add(assigned);
        changed = true;
      } else if (literal.kind === "aggregate" && !bound.has(literal.result) && literal.args.every((a) => a.kind === "var" && bound.has(a.name))) {
        bound.add(literal.result);
        changed = true;
      }
    }
  }

  // Body first: an unbound head variable is usually the consequence of an unbound input.
  for (const literal of rule.body) {
    if (literal.kind === "positive") continue;
    for (const v of inputsFirst(literal)) {
      if (!bound.has(v)) unsafe(rule, v, describeLiteral(literal), firstVarPosition(literal, v));
    }
  }
  for (const arg of rule.head.args) {
    if (arg.kind === "var" && !bound.has(arg.name)) unsafe(rule, arg.name, `in the head ${rule.head.predicate}(...)`, arg.at);
  }

  if (aggregates.length === 0) {
    return { groupVars: [], postAggregateVars: new Set(), postAggregateLiterals: new Set(), hasAggregates: false };
  }

  const seenResults = new Set<string>();
  for (const agg of aggregates) {
    if (seenResults.has(agg.result)) {
      throw new DatalogError("unsafe", `rule at line ${rule.at.line}: ${agg.result} is the result of two aggregates; give each its own variable (rule: ${rule.text})`, agg.at);
    }
    seenResults.add(agg.result);
    for (const arg of agg.args) {
      if (arg.kind === "var" && postAggregateVars.has(arg.name)) {
        throw new DatalogError("unsafe", `rule at line ${rule.at.line}: the aggregate ${agg.fn}(${arg.name}) uses another aggregate's result; aggregates cannot be nested (rule: ${rule.text})`, arg.at);
      }
    }
  }
  const postAggregateLiterals = new Set<number>();
  rule.body.forEach((literal, i) => {
    if (literal.kind === "positive") {
      for (const v of atomVars(literal.atom)) {
        if (postAggregateVars.has(v)) {
          throw new DatalogError("unsafe", `rule at line ${rule.at.line}: the aggregate result ${v} also appears in the positive atom ${literal.atom.predicate}(...); an aggregate result can only be used in the head and in comparisons (rule: ${rule.text})`, firstVarPosition(literal, v));
        }
      }
    } else if (literal.kind !== "aggregate" && literalVars(literal).some((v) => postAggregateVars.has(v))) {
      postAggregateLiterals.add(i);
    }
  });
  const groupVars = [...new Set(atomVars(rule.head))].filter((v) => !postAggregateVars.has(v));
  // A condition on an aggregate result sees one row per group, so it may only use the group and the results.
  for (const i of postAggregateLiterals) {
    const literal = rule.body[i]!;
    for (const v of literalVars(literal)) {
      if (!postAggregateVars.has(v) && !groupVars.includes(v)) {
        throw new DatalogError(
          "unsafe",
          `rule at line ${rule.at.line}: variable ${v} ${describeLiteral(literal)} is used together with an aggregate result, but it is not in the head, so it has no single value per group (rule: ${rule.text})`,
          firstVarPosition(literal, v),
        );
      }
    }
  }
  return { groupVars, postAggregateVars, postAggregateLiterals, hasAggregates: true };
}
