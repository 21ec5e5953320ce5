/**
 * Why does a fact hold? explain() rebuilds a derivation tree after evaluation: for a derived
 * fact it finds the first rule (in program order) and the first facts (in insertion order) that
 * produce it, then explains those facts in turn, down to given facts.
 *
 * Every fact remembers the round that first derived it (its rank). A premise is only accepted
 * if its rank is lower than the conclusion's, so the tree never goes in circles through
 * recursive rules, and one always exists: the derivation evaluation actually used.
 */
import type { Fact, Literal, Rule, Value } from "./ast";
import { accumulator } from "./aggregate";
import type { Engine } from "./evaluate";
import { compareValues, evalSlotExpr } from "./expr";
import { formatExpr, formatValue } from "./format";
import { planRule, type Op, type RulePlan } from "./plan";
import { atomVars } from "./safety";

export type Explanation =
  | { kind: "given"; fact: Fact }
  | { kind: "derived"; fact: Fact; rule: { line: number; text: string }; because: Premise[] }
  /** The node budget ran out before this fact was explained. */
  | { kind: "truncated"; fact: Fact };

export type Premise =
  | Explanation
  /** A negated atom that holds because no fact matches it (wildcards shown as _). */
  | { kind: "absent"; atom: string }
  /** A comparison or assignment, with the variables' values filled in. */
  | { kind: "condition"; text: string }
  /** An aggregate's value, how many body matches it ran over, and the facts of the first few. */
  | { kind: "aggregate"; text: string; value: Value; matches: number; examples: Explanation[] };

export interface ExplainOptions {
  /** Stop expanding after this many derived facts (recursion makes big trees). */
  maxNodes?: number;
  /** Stop expanding below this depth (a chain of 1000 recursive steps is not read by anyone). */
  maxDepth?: number;
}

export const DEFAULT_MAX_EXPLAIN_NODES = 2000;
export const DEFAULT_MAX_EXPLAIN_DEPTH = 100;
/** Matches of an aggregate whose facts are shown. */
export const MAX_AGGREGATE_EXAMPLES = 3;

type Step =
  | { kind: "fact"; literalIndex: number; predicate: string; seq: number }
  | { kind: "absent"; literalIndex: number; atom: string }
  | { kind: "condition"; literalIndex: number; text: string };

export class Explainer {
  private nodes = 0;
  private readonly plans = new Map<number, RulePlan>();
  private readonly maxNodes: number;
  private readonly maxDepth: number;

  constructor(
    private readonly engine: Engine,
    options: ExplainOptions = {},
  ) {
    this.maxNodes = options.maxNodes ?? DEFAULT_MAX_EXPLAIN_NODES;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_EXPLAIN_DEPTH;
  }

  /** The derivation tree of a fact, or null if it does not hold. */
  explain(fact: Fact): Explanation | null {
    const relation = this.engine.relations.get(fact.predicate);
    if (relation === undefined || relation.arity !== fact.args.length) return null;
    const seq = relation.find(fact.args);
    return seq < 0 ? null : this.explainSeq(fact.predicate, seq, 0);
  }

  private explainSeq(predicate: string, seq: number, depth: number): Explanation {
    const relation = this.engine.relation(predicate);
    const fact: Fact = { predicate, args: relation.tuple(seq) };
    const rank = relation.ranks[seq]!;
    if (rank === 0) return { kind: "given", fact };
    if (depth >= this.maxDepth || ++this.nodes > this.maxNodes) return { kind: "truncated", fact };
    for (const rule of this.engine.program.rules) {
      if (rule.head.predicate !== predicate) continue;
      const because = this.tryRule(rule, fact.args, rank, depth + 1);
      if (because) return { kind: "derived", fact, rule: { line: rule.at.line, text: rule.text }, because };
    }
    throw new Error(`explain: no derivation of ${predicate} #${seq} found (an engine bug)`);
  }

  private plan(rule: Rule): RulePlan {
    let plan = this.plans.get(rule.index);
    if (plan === undefined) {
      const analysis = this.engine.program.analyses[rule.index]!;
      const prebound = analysis.hasAggregates ? analysis.groupVars : atomVars(rule.head);
      plan = planRule(rule, analysis, this.engine.arityOf, { prebound, sizeOf: (p) => this.engine.relation(p).size });
      this.plans.set(rule.index, plan);
    }
    return plan;
  }

  private tryRule(rule: Rule, args: readonly Value[], rank: number, depth: number): Premise[] | undefined {
    // Unify the head with the fact.
    const headValues = new Map<string, Value>();
    for (let i = 0; i < args.length; i++) {
      const term = rule.head.args[i]!;
      if (term.kind === "const") {
        if (term.value !== args[i]) return undefined;
      } else if (term.kind === "var") {
        const known = headValues.get(term.name);
        if (known !== undefined && known !== args[i]) return undefined;
        headValues.set(term.name, args[i]!);
      }
    }
    const plan = this.plan(rule);
    const regs = new Array<Value>(plan.slotCount);
    const analysis = this.engine.program.analyses[rule.index]!;
    for (const name of analysis.hasAggregates ? analysis.groupVars : headValues.keys()) {
      regs[plan.slotNames.indexOf(name)] = headValues.get(name)!;
    }
    const trail: Step[] = [];

    if (!plan.aggregate) {
      if (!this.search(plan, plan.ops, 0, regs, rank, trail, () => true)) return undefined;
      return this.premises(trail, depth);
    }

    const { items, after } = plan.aggregate;
    const accumulators = items.map((i) => accumulator(i.fn));
    const matches: Step[][] = [];
    this.search(plan, plan.ops, 0, regs, rank, trail, () => {
      items.forEach((item, i) => accumulators[i]!.add(item.argSlot === undefined ? undefined : regs[item.argSlot]));
      matches.push([...trail]);
      return false; // keep enumerating: an aggregate needs every match
    });
    if (matches.length === 0) return undefined;
    const results = accumulators.map((a) => a.result());
    if (results.some((r) => r === undefined)) return undefined;
    items.forEach((item, i) => (regs[item.resultSlot] = results[i]!));
    const afterTrail: Step[] = [];
    const holds = this.search(plan, after, 0, regs, rank, afterTrail, () =>
      plan.head.every((source, i) => (source.kind === "const" ? source.value : regs[source.slot]) === args[i]),
    );
    if (!holds) return undefined;

    const aggregatePremises = items.map((item, i) => {
      const literal = rule.body[item.literalIndex] as Extract<Literal, { kind: "aggregate" }>;
      const examples = matches
        .slice(0, MAX_AGGREGATE_EXAMPLES)
        .flatMap((match) => match.flatMap((step) => (step.kind === "fact" ? [this.explainSeq(step.predicate, step.seq, depth)] : [])));
      return {
        literalIndex: item.literalIndex,
        premise: {
          kind: "aggregate" as const,
          text: `${literal.fn}(${literal.args.map((a) => (a.kind === "var" ? a.name : "_")).join(", ")}) = ${formatValue(results[i]!)}`,
          value: results[i]!,
          matches: matches.length,
          examples,
        },
      };
    });
    return [...this.premisesIndexed(afterTrail, depth), ...aggregatePremises]
      .sort((a, b) => a.literalIndex - b.literalIndex)
      .map((p) => p.premise);
  }

  private premises(trail: Step[], depth: number): Premise[] {
    return this.premisesIndexed(trail, depth)
      .sort((a, b) => a.literalIndex - b.literalIndex)
      .map((p) => p.premise);
  }

  private premisesIndexed(trail: Step[], depth: number): Array<{ literalIndex: number; premise: Premise }> {
    return trail.map((step) => ({
      literalIndex: step.literalIndex,
      premise:
        step.kind === "fact"
          ? this.explainSeq(step.predicate, step.seq, depth)
          : step.kind === "absent"
            ? { kind: "absent", atom: step.atom }
            : { kind: "condition", text: step.text },
    }));
  }

  /** Depth-first search for body matches using only facts ranked below `rank`. */
  private search(plan: RulePlan, ops: Op[], i: number, regs: Value[], rank: number, trail: Step[], done: () => boolean): boolean {
    if (i === ops.length) return done();
    const op = ops[i]!;
    const literal = plan.rule.body[op.literalIndex]!;
    const valueOf = (name: string): Value | undefined => {
      const slot = plan.slotNames.indexOf(name);
      return slot < 0 ? undefined : regs[slot];
    };
    switch (op.kind) {
      case "scan": {
        const relation = this.engine.relation(op.predicate);
        const key = op.keySources.map((s) => (s.kind === "const" ? s.value : regs[s.slot]!));
        const candidates =
          key.length === 0
            ? undefined
            : key.length === relation.arity
              ? [relation.find(key)].filter((seq) => seq >= 0)
              : relation.index(op.keyPositions).lookup(key);
        const count = candidates === undefined ? (key.length === 0 ? relation.size : 0) : candidates.length;
        for (let c = 0; c < count; c++) {
          const seq = candidates === undefined ? c : candidates[c]!;
          if (relation.ranks[seq]! >= rank) continue;
          for (const [position, slot] of op.binds) regs[slot] = relation.columns[position]![seq]!;
          if (op.repeats.some(([position, slot]) => relation.columns[position]![seq] !== regs[slot])) continue;
          trail.push({ kind: "fact", literalIndex: op.literalIndex, predicate: op.predicate, seq });
          if (this.search(plan, ops, i + 1, regs, rank, trail, done)) return true;
          trail.pop();
        }
        return false;
      }
      case "absent": {
        const relation = this.engine.relation(op.predicate);
        const key = op.keySources.map((s) => (s.kind === "const" ? s.value : regs[s.slot]!));
        const present = key.length === 0 ? relation.size > 0 : (relation.index(op.keyPositions).lookup(key)?.length ?? 0) > 0;
        if (present || literal.kind !== "negative") return false;
        const atom = `${literal.atom.predicate}(${literal.atom.args
          .map((a) => (a.kind === "wildcard" ? "_" : a.kind === "const" ? formatValue(a.value) : formatValue(valueOf(a.name)!)))
          .join(", ")})`;
        trail.push({ kind: "absent", literalIndex: op.literalIndex, atom });
        break;
      }
      case "filter": {
        if (!compareValues(op.op, evalSlotExpr(op.left, regs), evalSlotExpr(op.right, regs))) return false;
        trail.push({ kind: "condition", literalIndex: op.literalIndex, text: conditionText(literal, valueOf) });
        break;
      }
      case "assign": {
        const v = evalSlotExpr(op.expr, regs);
        if (v === undefined) return false;
        regs[op.slot] = v;
        trail.push({ kind: "condition", literalIndex: op.literalIndex, text: conditionText(literal, valueOf) });
        break;
      }
    }
    if (this.search(plan, ops, i + 1, regs, rank, trail, done)) return true;
    trail.pop();
    return false;
  }
}

function conditionText(literal: Literal, valueOf: (name: string) => Value | undefined): string {
  if (literal.kind !== "compare") return "";
  return `${formatExpr(literal.left, valueOf)} ${literal.op} ${formatExpr(literal.right, valueOf)}`;
}
