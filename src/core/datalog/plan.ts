/**
 * Turns a rule into a join plan: an ordered list of operations over a register file (one slot
 * per variable). Positive atoms become scans that look facts up through a hash index on the
 * argument positions already bound; comparisons, assignments and negations are placed as early
 * as their variables allow. The evaluator compiles a plan into closures, explain interprets it.
 */
import type { AggregateFn, CompareOp, Expr, Rule, Term, Value } from "./ast";
import type { SlotExpr } from "./expr";
import { assignedVar, atomVars, literalVars, type RuleAnalysis } from "./safety";

export type Source = { kind: "slot"; slot: number } | { kind: "const"; value: Value };

export interface ScanOp {
  kind: "scan";
  literalIndex: number;
  /** Which positive atom of the rule (0-based, in body order): the evaluator picks its view by this. */
  atomIndex: number;
  predicate: string;
  /** Argument positions known before the scan (constants, bound variables), ascending. */
  keyPositions: number[];
  keySources: Source[];
  /** Positions whose value is written to a slot. */
  binds: Array<[position: number, slot: number]>;
  /** Positions that repeat a variable first bound earlier in this same atom, e.g. p(X, X). */
  repeats: Array<[position: number, slot: number]>;
  /** No variable this scan binds is used later: one match is as good as all (a semi-join). */
  existential: boolean;
}

export interface AbsentOp {
  kind: "absent";
  literalIndex: number;
  predicate: string;
  arity: number;
  keyPositions: number[];
  keySources: Source[];
}

export interface FilterOp {
  kind: "filter";
  literalIndex: number;
  op: CompareOp;
  left: SlotExpr;
  right: SlotExpr;
}

export interface AssignOp {
  kind: "assign";
  literalIndex: number;
  slot: number;
  expr: SlotExpr;
}

export type Op = ScanOp | AbsentOp | FilterOp | AssignOp;

export interface AggregateItem {
  literalIndex: number;
  fn: AggregateFn;
  resultSlot: number;
  /** The aggregated variable (sum/min/max/avg); count has none. */
  argSlot?: number;
}

export interface RulePlan {
  rule: Rule;
  slotCount: number;
  /** Variable name per slot (anonymous `_` get names like `_#3`). */
  slotNames: string[];
  /** The body (for an aggregate rule: the part before aggregating). */
  ops: Op[];
  head: Source[];
  aggregate?: { groupSlots: number[]; items: AggregateItem[]; after: Op[] };
}

export interface PlanOptions {
  /** Put this positive atom first (semi-naive: the atom that reads the last round's new facts). */
  firstAtom?: number;
  /** Variables known before the body runs (explain binds the head's variables). */
  prebound?: readonly string[];
  /** Mark scans whose bindings nothing uses as existential (evaluation only). */
  existential?: boolean;
  /** Relation sizes, to break ties between equally bound atoms (explain). */
  sizeOf?: (predicate: string) => number;
}

interface PositiveAtom {
  literalIndex: number;
  atomIndex: number;
  predicate: string;
  args: Term[];
}

export function planRule(rule: Rule, analysis: RuleAnalysis, arityOf: (p: string) => number, options: PlanOptions = {}): RulePlan {
  const slots = new Map<string, number>();
  const slotNames: string[] = [];
  const slotFor = (name: string): number => {
    let slot = slots.get(name);
    if (slot === undefined) {
      slot = slotNames.length;
      slots.set(name, slot);
      slotNames.push(name);
    }
    return slot;
  };
  for (const v of atomVars(rule.head)) slotFor(v);
  for (const literal of rule.body) for (const v of literalVars(literal)) slotFor(v);

  // `_` in a positive atom is a fresh variable of its own (it counts for aggregates).
  const positives: PositiveAtom[] = [];
  rule.body.forEach((literal, literalIndex) => {
    if (literal.kind !== "positive") return;
    const args = literal.atom.args.map((arg): Term => {
      if (arg.kind !== "wildcard") return arg;
      const name = `_#${slotNames.length}`;
      slotFor(name);
      return { kind: "var", name, at: arg.at };
    });
    positives.push({ literalIndex, atomIndex: positives.length, predicate: literal.atom.predicate, args });
  });

  const toSlotExpr = (e: Expr): SlotExpr => {
    switch (e.kind) {
      case "var":
        return { kind: "slot", slot: slots.get(e.name)! };
      case "const":
        return { kind: "const", value: e.value };
      case "binary":
        return { kind: "binary", op: e.op, left: toSlotExpr(e.left), right: toSlotExpr(e.right) };
      case "negate":
        return { kind: "negate", operand: toSlotExpr(e.operand) };
      case "wildcard":
        throw new Error("'_' in an expression (rejected by the parser)");
    }
  };

  const bound = new Set<string>(options.prebound ?? []);
  const pending = rule.body
    .map((literal, literalIndex) => ({ literal, literalIndex }))
    .filter(({ literal, literalIndex }) => (literal.kind === "compare" || literal.kind === "negative") && !analysis.postAggregateLiterals.has(literalIndex));

  const placeReady = (ops: Op[], queue: typeof pending): void => {
    for (let progress = true; progress; ) {
      progress = false;
      for (let i = 0; i < queue.length; i++) {
        const { literal, literalIndex } = queue[i]!;
        let op: Op | undefined;
        if (literal.kind === "negative") {
          if (atomVars(literal.atom).every((v) => bound.has(v))) {
            const keyPositions: number[] = [];
            const keySources: Source[] = [];
            literal.atom.args.forEach((arg, position) => {
              if (arg.kind === "wildcard") return;
              keyPositions.push(position);
              keySources.push(arg.kind === "var" ? { kind: "slot", slot: slots.get(arg.name)! } : { kind: "const", value: arg.value });
            });
            op = { kind: "absent", literalIndex, predicate: literal.atom.predicate, arity: arityOf(literal.atom.predicate), keyPositions, keySources };
          }
        } else if (literal.kind === "compare") {
          const vars = literalVars(literal);
          if (vars.every((v) => bound.has(v))) {
            op = { kind: "filter", literalIndex, op: literal.op, left: toSlotExpr(literal.left), right: toSlotExpr(literal.right) };
          } else {
            const target = assignedVar(literal, bound);
            if (target !== undefined) {
              const expr = literal.left.kind === "var" && literal.left.name === target ? literal.right : literal.left;
              op = { kind: "assign", literalIndex, slot: slots.get(target)!, expr: toSlotExpr(expr) };
              bound.add(target);
            }
          }
        }
        if (op) {
          ops.push(op);
          queue.splice(i, 1);
          i--;
          progress = true;
        }
      }
    }
  };

  const ops: Op[] = [];
  const remaining = [...positives];
  placeReady(ops, pending);
  while (remaining.length > 0) {
    let pick = 0;
    if (options.firstAtom !== undefined && ops.every((op) => op.kind !== "scan")) {
      pick = remaining.findIndex((a) => a.atomIndex === options.firstAtom);
    } else {
      let best = -1;
      let bestSize = Infinity;
      remaining.forEach((atom, i) => {
        const score = atom.args.filter((a) => a.kind === "const" || (a.kind === "var" && bound.has(a.name))).length;
        const size = options.sizeOf?.(atom.predicate) ?? 0;
        if (score > best || (score === best && size < bestSize)) {
          best = score;
          bestSize = size;
          pick = i;
        }
      });
    }
    const atom = remaining.splice(pick, 1)[0]!;
    const scan: ScanOp = {
      kind: "scan",
      literalIndex: atom.literalIndex,
      atomIndex: atom.atomIndex,
      predicate: atom.predicate,
      keyPositions: [],
      keySources: [],
      binds: [],
      repeats: [],
      existential: false,
    };
    const boundHere = new Set<string>();
    atom.args.forEach((arg, position) => {
      if (arg.kind === "const") {
        scan.keyPositions.push(position);
        scan.keySources.push({ kind: "const", value: arg.value });
      } else if (arg.kind === "var") {
        const slot = slots.get(arg.name)!;
        if (bound.has(arg.name)) {
          scan.keyPositions.push(position);
          scan.keySources.push({ kind: "slot", slot });
        } else if (boundHere.has(arg.name)) {
          scan.repeats.push([position, slot]);
        } else {
          boundHere.add(arg.name);
          scan.binds.push([position, slot]);
        }
      }
    });
    for (const v of boundHere) bound.add(v);
    ops.push(scan);
    placeReady(ops, pending);
  }
  if (pending.length > 0) throw new Error(`unplaceable literal in rule at line ${rule.at.line} (safety should have rejected it)`);

  const head: Source[] = rule.head.args.map((arg) => {
    if (arg.kind === "const") return { kind: "const", value: arg.value };
    if (arg.kind === "var") return { kind: "slot", slot: slots.get(arg.name)! };
    throw new Error("'_' in a head (rejected by safety)");
  });

  let aggregate: RulePlan["aggregate"];
  if (analysis.hasAggregates) {
    const items: AggregateItem[] = [];
    rule.body.forEach((literal, literalIndex) => {
      if (literal.kind !== "aggregate") return;
      const arg = literal.args[0];
      items.push({
        literalIndex,
        fn: literal.fn,
        resultSlot: slots.get(literal.result)!,
        ...(literal.fn !== "count" && arg?.kind === "var" ? { argSlot: slots.get(arg.name)! } : {}),
      });
      bound.add(literal.result);
    });
    const after: Op[] = [];
    const post = rule.body
      .map((literal, literalIndex) => ({ literal, literalIndex }))
      .filter(({ literalIndex }) => analysis.postAggregateLiterals.has(literalIndex));
    // After aggregating, only the group and the results exist.
    const groupAndResults = new Set([...analysis.groupVars, ...items.map((i) => slotNames[i.resultSlot]!)]);
    for (const v of [...bound]) if (!groupAndResults.has(v)) bound.delete(v);
    placeReady(after, post);
    if (post.length > 0) throw new Error(`unplaceable condition after aggregation at line ${rule.at.line}`);
    aggregate = { groupSlots: analysis.groupVars.map((v) => slots.get(v)!), items, after };
  } else if (options.existential) {
    markExistential(ops, head);
  }

  return { rule, slotCount: slotNames.length, slotNames, ops, head, ...(aggregate ? { aggregate } : {}) };
}

function sourceSlots(sources: Source[]): number[] {
  return sources.flatMap((s) => (s.kind === "slot" ? [s.slot] : []));
}

function exprSlots(e: SlotExpr, into: number[] = []): number[] {
  if (e.kind === "slot") into.push(e.slot);
  else if (e.kind === "binary") {
    exprSlots(e.left, into);
    exprSlots(e.right, into);
  } else if (e.kind === "negate") exprSlots(e.operand, into);
  return into;
}

function usedSlots(op: Op): number[] {
  switch (op.kind) {
    case "scan":
    case "absent":
      return sourceSlots(op.keySources);
    case "filter":
      return [...exprSlots(op.left), ...exprSlots(op.right)];
    case "assign":
      return exprSlots(op.expr);
  }
}

function markExistential(ops: Op[], head: Source[]): void {
  const needed = new Set(sourceSlots(head));
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!;
    if (op.kind === "scan") {
      // Repeats are checked inside the scan itself, so only later uses count.
      op.existential = op.binds.every(([, slot]) => !needed.has(slot));
    }
    for (const slot of usedSlots(op)) needed.add(slot);
  }
}
