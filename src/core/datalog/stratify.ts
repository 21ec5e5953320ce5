/**
 * Stratification: the predicates that rules derive are grouped into strongly connected
 * components of the dependency graph and ordered so every component comes after the ones it
 * reads. A rule may read a negated (`not q`) or aggregated predicate only if that predicate is
 * complete before the rule runs, i.e. not in the rule's own component; otherwise the program
 * has no well-defined meaning and is rejected with the cycle named: "p -> not q -> p".
 */
import type { Rule } from "./ast";
import { DatalogError } from "./errors";

export type DependencyKind = "positive" | "negative" | "aggregate";

interface Edge {
  from: string;
  to: string;
  kind: DependencyKind;
  rule: Rule;
}

export interface Component {
  /** Predicates derived together (one, unless they are mutually recursive). */
  predicates: string[];
  /** Rules whose head is in this component, in program order. */
  rules: Rule[];
  /** Whether some rule reads a predicate of this component (needs iteration to a fixpoint). */
  recursive: boolean;
  /** 0 for components that negate/aggregate nothing derived; otherwise one more than what they negate. */
  stratum: number;
}

function dependencies(rules: Rule[]): Edge[] {
  const edges: Edge[] = [];
  for (const rule of rules) {
    const aggregating = rule.body.some((l) => l.kind === "aggregate");
    for (const literal of rule.body) {
      if (literal.kind === "positive") {
        edges.push({ from: rule.head.predicate, to: literal.atom.predicate, kind: aggregating ? "aggregate" : "positive", rule });
      } else if (literal.kind === "negative") {
        edges.push({ from: rule.head.predicate, to: literal.atom.predicate, kind: "negative", rule });
      }
    }
  }
  return edges;
}

function arrow(edge: Edge): string {
  return edge.kind === "negative" ? `not ${edge.to}` : edge.kind === "aggregate" ? `aggregate ${edge.to}` : edge.to;
}

/** The shortest path of edges from `start` back to `goal` inside one component (BFS, deterministic). */
function pathWithin(start: string, goal: string, members: Set<string>, outgoing: Map<string, Edge[]>): Edge[] {
  if (start === goal) return [];
  const via = new Map<string, Edge>();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const edge of outgoing.get(node) ?? []) {
      if (!members.has(edge.to) || seen.has(edge.to)) continue;
      seen.add(edge.to);
      via.set(edge.to, edge);
      if (edge.to === goal) {
        const path: Edge[] = [];
        for (let at = goal; at !== start; ) {
          const step = via.get(at)!;
          path.unshift(step);
          at = step.from;
        }
        return path;
      }
      queue.push(edge.to);
    }
  }
  return [];
}

/** Components in evaluation order; throws "unstratifiable" naming the cycle. */
export function stratify(rules: Rule[]): Component[] {
  const edges = dependencies(rules);
  const outgoing = new Map<string, Edge[]>();
  const derived: string[] = [];
  for (const rule of rules) {
    if (!outgoing.has(rule.head.predicate)) {
      outgoing.set(rule.head.predicate, []);
      derived.push(rule.head.predicate);
    }
  }
  for (const edge of edges) if (outgoing.has(edge.to)) outgoing.get(edge.from)!.push(edge);

  // Tarjan's algorithm: a component is emitted after every component it depends on.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const order: string[][] = [];
  let counter = 0;
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const edge of outgoing.get(node)!) {
      if (!index.has(edge.to)) {
        visit(edge.to);
        low.set(node, Math.min(low.get(node)!, low.get(edge.to)!));
      } else if (onStack.has(edge.to)) {
        low.set(node, Math.min(low.get(node)!, index.get(edge.to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const members: string[] = [];
      for (;;) {
        const member = stack.pop()!;
        onStack.delete(member);
        members.push(member);
        if (member === node) break;
      }
      order.push(members.sort((a, b) => derived.indexOf(a) - derived.indexOf(b)));
    }
  };
  for (const node of derived) if (!index.has(node)) visit(node);

  const componentOf = new Map<string, number>();
  order.forEach((members, i) => members.forEach((m) => componentOf.set(m, i)));
  const strata: number[] = [];
  return order.map((members, i) => {
    const memberSet = new Set(members);
    let stratum = 0;
    let recursive = false;
    for (const member of members) {
      for (const edge of outgoing.get(member)!) {
        const target = componentOf.get(edge.to)!;
        if (target === i) {
          recursive = true;
          if (edge.kind !== "positive") {
            const back = pathWithin(edge.to, edge.from, memberSet, outgoing);
            const cycle = [edge.from, arrow(edge), ...back.map(arrow)].join(" -> ");
            const what = edge.kind === "negative" ? "negation" : "aggregation";
            throw new DatalogError(
              "unstratifiable",
              `unstratifiable program: ${what} through recursion in the cycle ${cycle} (rule at line ${edge.rule.at.line}: ${edge.rule.text})`,
              edge.rule.at,
            );
          }
        } else {
          stratum = Math.max(stratum, strata[target]! + (edge.kind === "positive" ? 0 : 1));
        }
      }
    }
    strata.push(stratum);
    return { predicates: members, rules: rules.filter((r) => memberSet.has(r.head.predicate)), recursive, stratum };
  });
}
