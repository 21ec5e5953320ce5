/**
 * What arithmetic and comparisons mean, in one place for evaluation and explanation.
 *
 * - `+ - * /` work on numbers only; text, division by zero or a non-finite result make the
 *   expression fail, and a failed expression simply does not match (like a false comparison),
 *   so one odd fact cannot abort a whole evaluation.
 * - `=` and `!=` compare any two values (the number 1 differs from the text "1").
 * - `< <= > >=` compare two numbers numerically or two texts by code unit; mixed kinds are false.
 */
import type { ArithmeticOp, CompareOp, Value } from "./ast";

/** An expression compiled against variable slots. */
export type SlotExpr =
  | { kind: "slot"; slot: number }
  | { kind: "const"; value: Value }
  | { kind: "binary"; op: ArithmeticOp; left: SlotExpr; right: SlotExpr }
  | { kind: "negate"; operand: SlotExpr };

export function arithmetic(op: ArithmeticOp, a: Value | undefined, b: Value | undefined): number | undefined {
  if (typeof a !== "number" || typeof b !== "number") return undefined;
  let r: number;
  switch (op) {
    case "+":
      r = a + b;
      break;
    case "-":
      r = a - b;
      break;
    case "*":
      r = a * b;
      break;
    case "/":
      if (b === 0) return undefined;
      r = a / b;
      break;
  }
  if (!Number.isFinite(r)) return undefined;
  return r === 0 ? 0 : r; // no -0: it would print oddly and is the same fact as 0
}

export function compareValues(op: CompareOp, a: Value | undefined, b: Value | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (op === "=") return a === b;
  if (op === "!=") return a !== b;
  if (typeof a !== typeof b) return false;
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
  }
}

export function evalSlotExpr(expr: SlotExpr, regs: readonly Value[]): Value | undefined {
  switch (expr.kind) {
    case "slot":
      return regs[expr.slot];
    case "const":
      return expr.value;
    case "binary":
      return arithmetic(expr.op, evalSlotExpr(expr.left, regs), evalSlotExpr(expr.right, regs));
    case "negate": {
      const v = evalSlotExpr(expr.operand, regs);
      return typeof v === "number" ? (v === 0 ? 0 : -v) : undefined;
    }
  }
}

/** Compiles an expression into a closure over the register file (the evaluator's hot path). */
export function compileSlotExpr(expr: SlotExpr, regs: Value[]): () => Value | undefined {
  switch (expr.kind) {
    case "slot": {
      const slot = expr.slot;
      return () => regs[slot];
    }
    case "const": {
      const value = expr.value;
      return () => value;
    }
    case "binary": {
      const left = compileSlotExpr(expr.left, regs);
      const right = compileSlotExpr(expr.right, regs);
      const op = expr.op;
      return () => arithmetic(op, left(), right());
    }
    case "negate": {
      const operand = compileSlotExpr(expr.operand, regs);
      return () => {
        const v = operand();
        return typeof v === "number" ? (v === 0 ? 0 : -v) : undefined;
      };
    }
  }
}

/** Total order for presenting results: numbers (ascending) before texts (by code unit). */
export function orderValues(a: Value, b: Value): number {
  if (typeof a === "number") return typeof b === "number" ? a - b : -1;
  if (typeof b === "number") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function orderTuples(a: readonly Value[], b: readonly Value[]): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    const c = orderValues(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}
