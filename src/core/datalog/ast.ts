/**
 * The parsed form of a .dl program. Atoms (`same_load`) and strings (`"same_load"`) are one
 * kind of value — text — so a JSON fact `["same_load"]` matches the atom `same_load`; numbers
 * (integers and floats) are the other kind.
 */

/** A constant: text (atom or string) or a finite number. */
export type Value = string | number;

/** Where something starts in the source, 1-based. */
export interface Position {
  line: number;
  column: number;
}

export type Term =
  | { kind: "var"; name: string; at: Position }
  /** `_`: a fresh variable in a positive atom, "any value" inside `not`. */
  | { kind: "wildcard"; at: Position }
  | { kind: "const"; value: Value; at: Position };

export type ArithmeticOp = "+" | "-" | "*" | "/";
export type CompareOp = "<" | "<=" | ">" | ">=" | "=" | "!=";
export type AggregateFn = "count" | "sum" | "min" | "max" | "avg";
export const AGGREGATE_FNS: readonly AggregateFn[] = ["count", "sum", "min", "max", "avg"];

export type Expr =
  | Term
  | { kind: "binary"; op: ArithmeticOp; left: Expr; right: Expr; at: Position }
  | { kind: "negate"; operand: Expr; at: Position };

export interface Atom {
  predicate: string;
  args: Term[];
  at: Position;
}

export type Literal =
  | { kind: "positive"; atom: Atom }
  | { kind: "negative"; atom: Atom }
  /** `L op R`; `X = expr` with X not yet bound is an assignment (decided by safety/planning). */
  | { kind: "compare"; op: CompareOp; left: Expr; right: Expr; at: Position }
  /** Datalox's form `N = count(...)`, `T = sum(X)`: grouped by the head's other variables. */
  | { kind: "aggregate"; fn: AggregateFn; result: string; args: Term[]; at: Position };

export interface Rule {
  head: Atom;
  body: Literal[];
  /** The rule as written (whitespace collapsed), for error messages and explanations. */
  text: string;
  at: Position;
  /** Position in the program, 0-based; ties are broken by it so evaluation is deterministic. */
  index: number;
}

/** A ground fact. */
export interface Fact {
  predicate: string;
  args: Value[];
}

export interface SourceFact extends Fact {
  at: Position;
}

/** What the parser produces, before safety and stratification. */
export interface ParsedProgram {
  facts: SourceFact[];
  rules: Rule[];
}
