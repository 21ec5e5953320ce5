/**
 * Bottom-up evaluation. Components run in stratification order; a recursive component runs
 * semi-naively: after a first round over everything, each round joins only the facts the
 * previous round added (the "delta") against the rest, so a fact is never re-derived from the
 * same premises. Each round reads a fixed prefix of every relation and appends behind it, which
 * makes the result independent of rule order and every run on the same input identical.
 *
 * Plans are compiled into nested closures over one register file: no per-binding objects, and
 * hash-index lookups on bound argument positions.
 */
import type { Fact, Value } from "./ast";
import { accumulator, type Accumulator } from "./aggregate";
import { compareValues, compileSlotExpr } from "./expr";
import { DatalogError } from "./errors";
import { factsFromMap, type FactMapInput } from "./facts";
import { planRule, type Op, type RulePlan, type Source } from "./plan";
import type { Program } from "./program";
import { lowerBound, Relation } from "./relation";

export type Strategy = "semi-naive" | "naive";

export interface EvaluateOptions {
  /** "naive" re-joins everything every round; kept as a reference for tests and benchmarks. */
  strategy?: Strategy;
}

export interface EvaluationStats {
  /** Rounds over all components (one per non-recursive component, ≥ 2 per recursive one). */
  rounds: number;
  /** Facts derived by rules (not counting given ones). */
  derived: number;
}

/** The half-open range of a relation's facts that one atom reads in the current round. */
interface View {
  lo: number;
  hi: number;
}

interface CompiledRule {
  plan: RulePlan;
  /** One view per positive atom of the rule, indexed by atomIndex. */
  views: View[];
  run: () => void;
}

export class Engine {
  readonly relations = new Map<string, Relation>();
  round = 0;
  derived = 0;

  constructor(readonly program: Program) {
    for (const predicate of program.predicates) this.relations.set(predicate, new Relation(predicate, program.arities.get(predicate)!));
  }

  relation(predicate: string): Relation {
    return this.relations.get(predicate)!;
  }

  readonly arityOf = (predicate: string): number => this.relation(predicate).arity;

  /** Adds given facts (rank 0); a known predicate must keep its arity. */
  addGiven(facts: readonly Fact[]): void {
    for (const fact of facts) {
      let relation = this.relations.get(fact.predicate);
      if (relation === undefined) {
        relation = new Relation(fact.predicate, fact.args.length);
        this.relations.set(fact.predicate, relation);
      } else if (relation.arity !== fact.args.length) {
        throw new DatalogError(
          "facts",
          `invalid facts: ${fact.predicate} is given with ${fact.args.length} argument(s), but the rules use it with ${relation.arity}`,
        );
      }
      relation.insert(fact.args as Value[], 0);
    }
  }

  run(strategy: Strategy): void {
    for (const component of this.program.components) {
      const members = new Set(component.predicates);
      const plan = (ruleIndex: number, firstAtom?: number): CompiledRule =>
        this.compile(
          planRule(this.program.rules[ruleIndex]!, this.program.analyses[ruleIndex]!, this.arityOf, {
            existential: true,
            ...(firstAtom === undefined ? {} : { firstAtom }),
          }),
        );
      const initial = component.rules.map((r) => plan(r.index));
      const sizes = (): Map<string, number> => new Map(component.predicates.map((p) => [p, this.relation(p).size]));

      const fullRound = (): void => {
        this.round++;
        const snapshot = sizes();
        for (const rule of initial) {
          rule.plan.ops.forEach((op) => {
            if (op.kind === "scan") rule.views[op.atomIndex] = { lo: 0, hi: snapshot.get(op.predicate) ?? this.relation(op.predicate).size };
          });
          rule.run();
        }
      };

      const start = sizes();
      fullRound();
      if (!component.recursive) continue;

      if (strategy === "naive") {
        for (let before = this.derived - 1; this.derived !== before; ) {
          before = this.derived;
          fullRound();
        }
        continue;
      }

      // Semi-naive variants: one per positive atom that reads this component, that atom first.
      const variants = component.rules.flatMap((rule) => {
        const atoms = rule.body.flatMap((l) => (l.kind === "positive" ? [l.atom.predicate] : []));
        return atoms.flatMap((predicate, atomIndex) => (members.has(predicate) ? [{ atomIndex, atoms, compiled: plan(rule.index, atomIndex) }] : []));
      });
      // The first round read [0, start); what it added is the first delta.
      let previous = start;
      for (;;) {
        const current = sizes();
        if (component.predicates.every((p) => current.get(p) === previous.get(p))) break;
        this.round++;
        for (const { atomIndex: deltaAtom, atoms, compiled } of variants) {
          const deltaPredicate = atoms[deltaAtom]!;
          if (current.get(deltaPredicate) === previous.get(deltaPredicate)) continue;
          atoms.forEach((predicate, atomIndex) => {
            if (!members.has(predicate)) {
              compiled.views[atomIndex] = { lo: 0, hi: this.relation(predicate).size };
            } else if (atomIndex < deltaAtom) {
              compiled.views[atomIndex] = { lo: 0, hi: previous.get(predicate)! };
            } else if (atomIndex === deltaAtom) {
              compiled.views[atomIndex] = { lo: previous.get(predicate)!, hi: current.get(predicate)! };
            } else {
              compiled.views[atomIndex] = { lo: 0, hi: current.get(predicate)! };
            }
          });
          compiled.run();
        }
        previous = current;
      }
    }
  }

  private compile(plan: RulePlan): CompiledRule {
    const regs: Value[] = new Array<Value>(plan.slotCount).fill(0);
    const positiveCount = plan.rule.body.filter((l) => l.kind === "positive").length;
    const views: View[] = Array.from({ length: positiveCount }, () => ({ lo: 0, hi: 0 }));
    const headRelation = this.relation(plan.rule.head.predicate);
    const emit = this.compileEmit(plan.head, headRelation, regs);

    // The driver replaces views[i] before each run; scans read views[i] at run time.
    if (!plan.aggregate) return { plan, views, run: this.compileChain(plan.ops, regs, views, emit) };

    const { groupSlots, items, after } = plan.aggregate;
    let groups = new Map<string, { key: Value[]; accumulators: Accumulator[] }>();
    const collect = (): void => {
      const key = groupSlots.map((s) => regs[s]!);
      const name = JSON.stringify(key);
      let group = groups.get(name);
      if (group === undefined) {
        group = { key, accumulators: items.map((i) => accumulator(i.fn)) };
        groups.set(name, group);
      }
      items.forEach((item, i) => group.accumulators[i]!.add(item.argSlot === undefined ? undefined : regs[item.argSlot]));
    };
    const body = this.compileChain(plan.ops, regs, views, collect);
    const finish = this.compileChain(after, regs, views, emit);
    const run = (): void => {
      groups = new Map();
      body();
      for (const group of groups.values()) {
        groupSlots.forEach((slot, i) => (regs[slot] = group.key[i]!));
        const results = group.accumulators.map((a) => a.result());
        if (results.some((r) => r === undefined)) continue;
        items.forEach((item, i) => (regs[item.resultSlot] = results[i]!));
        finish();
      }
    };
    return { plan, views, run };
  }

  private compileEmit(head: Source[], relation: Relation, regs: Value[]): () => void {
    const arity = head.length;
    const slots = head.map((s) => (s.kind === "slot" ? s.slot : -1));
    const consts = head.map((s) => (s.kind === "const" ? s.value : 0));
    const tuple = new Array<Value>(arity); // reused: insert copies the values into the columns
    return () => {
      for (let i = 0; i < arity; i++) {
        const slot = slots[i]!;
        tuple[i] = slot >= 0 ? regs[slot]! : consts[i]!;
      }
      if (relation.insert(tuple, this.round)) this.derived++;
    };
  }

  private compileChain(ops: Op[], regs: Value[], views: View[], last: () => void): () => void {
    let next = last;
    for (let i = ops.length - 1; i >= 0; i--) next = this.compileOp(ops[i]!, regs, views, next);
    return next;
  }

  private compileOp(op: Op, regs: Value[], views: View[], next: () => void): () => void {
    switch (op.kind) {
      case "filter": {
        const left = compileSlotExpr(op.left, regs);
        const right = compileSlotExpr(op.right, regs);
        const cmp = op.op;
        return () => {
          if (compareValues(cmp, left(), right())) next();
        };
      }
      case "assign": {
        const expr = compileSlotExpr(op.expr, regs);
        const slot = op.slot;
        return () => {
          const v = expr();
          if (v === undefined) return;
          regs[slot] = v;
          next();
        };
      }
      case "absent": {
        const relation = this.relation(op.predicate);
        const key = keyReader(op.keySources, regs);
        if (op.keyPositions.length === 0) {
          return () => {
            if (relation.size === 0) next();
          };
        }
        if (op.keyPositions.length === op.arity) {
          return () => {
            if (relation.find(key()) < 0) next();
          };
        }
        const index = relation.index(op.keyPositions);
        return () => {
          const bucket = index.lookup(key());
          if (bucket === undefined || bucket.length === 0) next();
        };
      }
      case "scan":
        return this.compileScan(op, regs, views, next);
    }
  }

  private compileScan(op: Extract<Op, { kind: "scan" }>, regs: Value[], views: View[], next: () => void): () => void {
    const relation = this.relation(op.predicate);
    const atomIndex = op.atomIndex;
    const bindColumns = op.binds.map(([p]) => relation.columns[p]!);
    const bindSlots = op.binds.map(([, s]) => s);
    const bindCount = bindColumns.length;
    const repeatColumns = op.repeats.map(([p]) => relation.columns[p]!);
    const repeatSlots = op.repeats.map(([, s]) => s);
    const repeatCount = repeatColumns.length;
    const existential = op.existential;

    /** Binds the fact's variables and continues; false if a repeated variable disagrees. */
    const visit = (seq: number): boolean => {
      for (let i = 0; i < bindCount; i++) regs[bindSlots[i]!] = bindColumns[i]![seq]!;
      for (let i = 0; i < repeatCount; i++) if (repeatColumns[i]![seq] !== regs[repeatSlots[i]!]) return false;
      next();
      return true;
    };
    if (bindCount === 1 && repeatCount === 0 && !existential) {
      const column = bindColumns[0]!;
      const slot = bindSlots[0]!;
      // The common case (one new variable) without the loops above.
      return this.scanLoop(op, relation, views, (seq) => {
        regs[slot] = column[seq]!;
        next();
        return true;
      }, regs);
    }
    return this.scanLoop(op, relation, views, visit, regs);
  }

  private scanLoop(
    op: Extract<Op, { kind: "scan" }>,
    relation: Relation,
    views: View[],
    visit: (seq: number) => boolean,
    regs: Value[],
  ): () => void {
    const atomIndex = op.atomIndex;
    const existential = op.existential;
    if (op.keyPositions.length === 0) {
      return () => {
        const { lo, hi } = views[atomIndex]!;
        for (let seq = lo; seq < hi; seq++) {
          if (visit(seq) && existential) return;
        }
      };
    }

    if (op.keyPositions.length === relation.arity) {
      // Fully bound: a membership test on the relation's own hash table, no index needed.
      const key = keyReader(op.keySources, regs);
      return () => {
        const seq = relation.find(key());
        const { lo, hi } = views[atomIndex]!;
        if (seq >= lo && seq < hi) visit(seq);
      };
    }
    const index = relation.index(op.keyPositions);
    const scanBucket = (bucket: number[] | undefined): void => {
      if (bucket === undefined) return;
      const { lo, hi } = views[atomIndex]!;
      for (let i = lo === 0 ? 0 : lowerBound(bucket, lo); i < bucket.length; i++) {
        const seq = bucket[i]!;
        if (seq >= hi) return;
        if (visit(seq) && existential) return;
      }
    };
    if (op.keySources.length === 1) {
      const source = op.keySources[0]!;
      if (source.kind === "const") {
        const value = source.value;
        return () => scanBucket(index.lookup1(value));
      }
      const slot = source.slot;
      return () => scanBucket(index.lookup1(regs[slot]!));
    }
    const key = keyReader(op.keySources, regs);
    return () => scanBucket(index.lookup(key()));
  }
}

/** Reads a lookup key from constants and registers into one reused array. */
function keyReader(sources: Source[], regs: Value[]): () => Value[] {
  const key = new Array<Value>(sources.length);
  const slots = sources.map((s) => (s.kind === "slot" ? s.slot : -1));
  sources.forEach((s, i) => {
    if (s.kind === "const") key[i] = s.value;
  });
  return () => {
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (slot >= 0) key[i] = regs[slot]!;
    }
    return key;
  };
}

export function normalizeFacts(facts: FactMapInput | readonly Fact[]): readonly Fact[] {
  return Array.isArray(facts) ? (facts as readonly Fact[]) : factsFromMap(facts as FactMapInput);
}
