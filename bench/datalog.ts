/**
 * `npm run bench -- datalog`: how long the Datalog engine takes on the work it really does.
 *
 * - rules/pg2une.dl over 10, 100 and 1000 detection facts (every cron tick evaluates it).
 *   Reference: the same decisions hand-written in TypeScript (what the rules cost over code).
 * - Transitive closure of 100-, 1000- and 3000-edge chains (n(n+1)/2 derived facts: 4.5 M at
 *   3000), the classic recursion stress. Reference: a breadth-first search from every node.
 * - Semi-naive vs naive evaluation on the 100-edge chain (naive re-joins everything each round).
 *
 * Every engine result is checked against its reference before it is timed.
 * Targets: pg2une.dl with 1000 facts under 5 ms; the 1000-edge closure under 1 s.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { evaluate, parseProgram, type FactMap, type Program, type Value } from "../src/core/datalog";
import { printComparison, printInputs, type ComparisonRow } from "./table";

const RULES_PATH = fileURLToPath(new URL("../rules/pg2une.dl", import.meta.url));
const PG2UNE_TARGET_MS = 5;
const CLOSURE_1000_TARGET_MS = 1000;
const NOW = 1_000_000;

/** Small deterministic generator (LCG) so every run sees the same facts. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const METRICS = ["tps", "latency_p99", "latency_p95", "buffer_hit_ratio", "temp_bytes", "conn_active", "checkpoints", "deadlocks"];

/** n facts shaped like a tick's: the Durable Object's state plus detection output, round-robin. */
function tickFacts(n: number): FactMap {
  const random = rng(n);
  const facts: FactMap = {
    high_confidence: [[]],
    now: [[NOW]],
    last_optimization_time: [[NOW - 900]],
    workload: [["oltp"]],
    usl_deviation: [[-0.05 - random() * 0.2]],
  };
  const kinds: Array<(i: number) => [string, Value[]]> = [
    (i) => ["metric_degraded", [`${METRICS[i % 8]}_${i}`]],
    (i) => ["query_regression", [i, random() < 0.7 ? "same_load" : "changed_load", 10 + random() * 90]],
    (i) => ["metric_value", [`${METRICS[i % 8]}_${i}`, random() * 1000]],
    (i) => ["cusum_degradation", [`${METRICS[i % 8]}_${i}`, random() * 8]],
    (i) => ["seasonal_expected", [`${METRICS[i % 8]}_${i}`, random() * 1000]],
    (i) => ["otava_change_point", [`${METRICS[i % 8]}_${i}`, random() * 0.4]],
  ];
  for (let i = 0; i < n - 5; i++) {
    const [predicate, args] = kinds[i % kinds.length]!(i);
    (facts[predicate] ??= []).push(args);
  }
  return facts;
}

/** The decisions of rules/pg2une.dl written by hand, as the reference. */
function handWrittenDecision(facts: FactMap): FactMap {
  const has = (p: string) => (facts[p]?.length ?? 0) > 0;
  const regressions = facts.query_regression ?? [];
  const degraded = has("metric_degraded");
  const should: string[] = [];
  if (regressions.some((r) => r[1] === "same_load") && !degraded && !has("workload_shift")) should.push("queries");
  if (degraded && regressions.length === 0) should.push("knobs");
  if (degraded && regressions.length > 0) should.push("holistic");
  const ready = has("high_confidence") ? should : [];
  const now = facts.now ?? [];
  const suppressed = (facts.last_optimization_time ?? []).some(([t]) => now.some(([n]) => (n as number) - (t as number) < 300));
  const act = suppressed || has("rollout_active") ? [] : ready;
  const blocked = [
    ...(suppressed ? ready.map((a) => [a, "cooldown"]) : []),
    ...(has("rollout_active") ? ready.map((a) => [a, "rollout_active"]) : []),
  ];
  const confirmed = [...new Set((facts.otava_change_point ?? []).filter(([, m]) => (m as number) > 0.1).map(([metric]) => metric!))];
  return {
    should_optimize: should.map((a) => [a]),
    action_ready: ready.map((a) => [a]),
    suppress_action: suppressed ? [[]] : [],
    should_act: act.map((a) => [a]),
    action_blocked: blocked,
    otava_confirmed: confirmed.map((m) => [m]).sort(),
    usl_warning: (facts.usl_deviation ?? []).some(([d]) => (d as number) < -0.15) ? [[]] : [],
  };
}

function bfsClosureSize(edges: Array<[number, number]>): number {
  const out = new Map<number, number[]>();
  for (const [a, b] of edges) {
    const list = out.get(a);
    if (list) list.push(b);
    else out.set(a, [b]);
  }
  let pairs = 0;
  for (const start of out.keys()) {
    const seen = new Set<number>();
    const queue = [...out.get(start)!];
    for (let i = 0; i < queue.length; i++) {
      const node = queue[i]!;
      if (seen.has(node)) continue;
      seen.add(node);
      pairs++;
      for (const next of out.get(node) ?? []) queue.push(next);
    }
  }
  return pairs;
}

function medianMs(runs: number, fn: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function sameFacts(a: FactMap, b: FactMap): boolean {
  const norm = (m: FactMap) => JSON.stringify(Object.keys(m).sort().map((k) => [k, m[k]!.map((t) => JSON.stringify(t)).sort()]));
  return norm(a) === norm(b);
}

export default async function datalogBench(args: string[]): Promise<boolean> {
  const quick = args.includes("--quick");
  const program = parseProgram(readFileSync(RULES_PATH, "utf8"));
  const closure = parseProgram("path(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).");
  const chains = quick ? [100, 1000] : [100, 1000, 3000];

  printInputs("Datalog engine", {
    rules: `rules/pg2une.dl (${program.rules.length} rules), facts from a seeded generator shaped like a tick's`,
    closure: "path(X,Y) :- edge(X,Y).  path(X,Z) :- path(X,Y), edge(Y,Z).  over chains 0→1→…→n",
    timing: "median wall time of repeated runs after warm-up (parse excluded; facts conversion included)",
    machine: `${cpus().length} cores, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} (shared machine: noisy)`,
  });

  let ok = true;
  const rows: ComparisonRow[] = [];
  for (const n of [10, 100, 1000]) {
    const facts = tickFacts(n);
    const ours = evaluate(program, facts).toFactMap();
    if (!sameFacts(ours, handWrittenDecision(facts))) {
      console.error(`pg2une.dl with ${n} facts disagrees with the hand-written decision:\n${JSON.stringify(ours)}\n${JSON.stringify(handWrittenDecision(facts))}`);
      ok = false;
    }
    const runs = n === 1000 ? 200 : 500;
    medianMs(runs / 5, () => evaluate(program, facts)); // warm-up
    const oursMs = medianMs(runs, () => evaluate(program, facts));
    const refMs = medianMs(runs, () => handWrittenDecision(facts));
    const row: ComparisonRow = { metric: `pg2une.dl, ${n} facts (ms)`, ours: oursMs, reference: refMs };
    if (n === 1000) Object.assign(row, { target: `< ${PG2UNE_TARGET_MS} ms`, pass: oursMs < PG2UNE_TARGET_MS });
    rows.push(row);
  }

  for (const n of chains) {
    const edges = Array.from({ length: n }, (_, i): [number, number] => [i, i + 1]);
    const expected = (n * (n + 1)) / 2;
    const derived = evaluate(closure, { edge: edges }).count("path");
    if (derived !== expected || bfsClosureSize(edges) !== expected) {
      console.error(`closure of a ${n}-edge chain: engine ${derived}, BFS ${bfsClosureSize(edges)}, expected ${expected}`);
      ok = false;
    }
    const runs = n <= 100 ? 30 : n <= 1000 ? 5 : 1;
    const oursMs = medianMs(runs, () => evaluate(closure, { edge: edges }));
    const refMs = medianMs(runs, () => bfsClosureSize(edges));
    const row: ComparisonRow = { metric: `closure, ${n}-edge chain (ms)`, ours: oursMs, reference: refMs };
    if (n === 1000) Object.assign(row, { target: `< ${CLOSURE_1000_TARGET_MS} ms`, pass: oursMs < CLOSURE_1000_TARGET_MS });
    rows.push(row);
  }
  printComparison("ours", "reference (hand-written TS / BFS)", rows);

  const edges100 = Array.from({ length: 100 }, (_, i) => [i, i + 1]);
  const semi = medianMs(20, () => evaluate(closure, { edge: edges100 }));
  const naive = medianMs(5, () => evaluate(closure, { edge: edges100 }, { strategy: "naive" }));
  const program100: Program = closure;
  if (!sameFacts(evaluate(program100, { edge: edges100 }).toFactMap(), evaluate(program100, { edge: edges100 }, { strategy: "naive" }).toFactMap())) {
    console.error("semi-naive and naive evaluation disagree on the 100-edge chain");
    ok = false;
  }
  printComparison("semi-naive", "naive", [{ metric: "closure, 100-edge chain (ms)", ours: semi, reference: naive }]);

  return ok && rows.every((r) => r.pass !== false);
}
