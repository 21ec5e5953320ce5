/**
 * Rendering values, facts, expressions and explanations back as .dl text, so what an operator
 * reads can be pasted into a rules file or a `--explain` argument.
 */
import type { Expr, Fact, Value } from "./ast";
import type { Explanation, Premise } from "./explain";

const BARE_ATOM = /^[a-z][A-Za-z0-9_]*$/;

export function formatValue(value: Value): string {
  if (typeof value === "number") return String(value);
  if (BARE_ATOM.test(value) && value !== "not") return value;
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t").replace(/\r/g, "\\r")}"`;
}

export function formatFact(fact: Fact): string {
  return `${fact.predicate}(${fact.args.map(formatValue).join(", ")})`;
}

const PRECEDENCE = { "+": 1, "-": 1, "*": 2, "/": 2 } as const;

/** An expression with each variable replaced by `valueOf(name)` when that returns a value. */
export function formatExpr(expr: Expr, valueOf: (name: string) => Value | undefined = () => undefined, parentPrecedence = 0): string {
  switch (expr.kind) {
    case "var": {
      const v = valueOf(expr.name);
      return v === undefined ? expr.name : formatValue(v);
    }
    case "wildcard":
      return "_";
    case "const":
      return formatValue(expr.value);
    case "negate":
      return `-${formatExpr(expr.operand, valueOf, 3)}`;
    case "binary": {
      const p = PRECEDENCE[expr.op];
      // Right operand of - and / binds tighter, so a - (b - c) keeps its parentheses.
      const text = `${formatExpr(expr.left, valueOf, p)} ${expr.op} ${formatExpr(expr.right, valueOf, p + 0.5)}`;
      return p < parentPrecedence ? `(${text})` : text;
    }
  }
}

function premiseLine(premise: Premise): string {
  switch (premise.kind) {
    case "given":
      return `${formatFact(premise.fact)}  (given)`;
    case "derived":
      return `${formatFact(premise.fact)}  <- rule at line ${premise.rule.line}: ${premise.rule.text}`;
    case "truncated":
      return `${formatFact(premise.fact)}  (… not expanded: explanation size limit)`;
    case "absent":
      return `not ${premise.atom}  (no such fact)`;
    case "condition":
      return `${premise.text}  (holds)`;
    case "aggregate":
      return `${premise.text}  (over ${premise.matches} match${premise.matches === 1 ? "" : "es"})`;
  }
}

function premiseChildren(premise: Premise): Premise[] {
  if (premise.kind === "derived") return premise.because;
  if (premise.kind === "aggregate") return premise.examples;
  return [];
}

/** A derivation tree drawn with box characters, one premise per line. */
export function formatExplanation(explanation: Explanation): string {
  const lines: string[] = [premiseLine(explanation)];
  const walk = (premise: Premise, prefix: string): void => {
    const children = premiseChildren(premise);
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      lines.push(`${prefix}${last ? "└─ " : "├─ "}${premiseLine(child)}`);
      walk(child, `${prefix}${last ? "   " : "│  "}`);
    });
  };
  walk(explanation, "");
  return lines.join("\n");
}
