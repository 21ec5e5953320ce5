import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DatalogError, evaluate, parseFactMap, parseProgram, type FactMap } from "../../../src/core/datalog";

const CLOSURE = `
  path(X, Y) :- edge(X, Y).
  path(X, Z) :- path(X, Y), edge(Y, Z).
`;

/** Reference: reachability by breadth-first search from every node. */
function bfsClosure(edges: Array<[number, number]>): string[] {
  const out = new Map<number, number[]>();
  for (const [a, b] of edges) out.set(a, [...(out.get(a) ?? []), b]);
  const pairs: string[] = [];
  for (const start of new Set(edges.map(([a]) => a))) {
    const seen = new Set<number>();
    const queue = [...(out.get(start) ?? [])];
    while (queue.length > 0) {
      const n = queue.shift()!;
      if (seen.has(n)) continue;
      seen.add(n);
      pairs.push(`${start}->${n}`);
      queue.push(...(out.get(n) ?? []));
    }
  }
  return pairs.sort();
}

function run(text: string, facts: FactMap = {}) {
  return evaluate(parseProgram(text), facts);
}

function errorOf(text: string): DatalogError {
  try {
    parseProgram(text);
  } catch (err) {
    if (err instanceof DatalogError) return err;
    throw err;
  }
  throw new Error(`expected a DatalogError for: ${text}`);
}

describe("recursion", () => {
  it("computes the transitive closure of a chain", () => {
    const edges = Array.from({ length: 50 }, (_, i) => [i, i + 1]);
    const db = run(CLOSURE, { edge: edges });
    expect(db.count("path")).toBe((50 * 51) / 2);
    expect(db.has("path", [0, 50])).toBe(true);
    expect(db.has("path", [50, 0])).toBe(false);
  });

  it("computes the transitive closure of a graph with cycles like a BFS does", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 12 })), { maxLength: 40 }), (edges) => {
        const db = run(CLOSURE, { edge: edges });
        const ours = db.query("path").map(([a, b]) => `${a}->${b}`).sort();
        expect(ours).toEqual(bfsClosure(edges));
      }),
      { numRuns: 150, seed: 6 },
    );
  });

  it("handles mutual recursion (even/odd over a successor chain)", () => {
    const db = run(
      `
      even(0).
      even(Y) :- odd(X), succ(X, Y).
      odd(Y) :- even(X), succ(X, Y).
    `,
      { succ: Array.from({ length: 10 }, (_, i) => [i, i + 1]) },
    );
    expect(db.toFactMap(["even", "odd"])).toEqual({ even: [[0], [2], [4], [6], [8], [10]], odd: [[1], [3], [5], [7], [9]] });
    expect(db.program.components.find((c) => c.predicates.includes("even"))!.predicates).toEqual(["even", "odd"]);
  });

  it("evaluates negation over recursive predicates in a later stratum", () => {
    const db = run(
      `
      reach(X) :- start(X).
      reach(Y) :- reach(X), edge(X, Y).
      unreachable(X) :- node(X), not reach(X).
      % a second level: nodes that cannot reach an unreachable node
      reaches_unreachable(X) :- edge(X, Y), unreachable(Y).
      reaches_unreachable(X) :- edge(X, Y), reaches_unreachable(Y).
      clean(X) :- node(X), not reaches_unreachable(X).
    `,
      {
        start: [[1]],
        node: [[1], [2], [3], [4], [5]],
        edge: [[1, 2], [2, 3], [4, 5], [5, 4], [3, 3]],
      },
    );
    expect(db.toFactMap(["reach", "unreachable", "reaches_unreachable", "clean"])).toEqual({
      reach: [[1], [2], [3]],
      unreachable: [[4], [5]],
      reaches_unreachable: [[4], [5]],
      clean: [[1], [2], [3]],
    });
    const strata = Object.fromEntries(db.program.components.flatMap((c) => c.predicates.map((p) => [p, c.stratum])));
    expect(strata).toEqual({ reach: 0, unreachable: 1, reaches_unreachable: 1, clean: 2 });
  });

  it("semi-naive and naive evaluation agree on random stratified programs", () => {
    const templates = [
      "p(X, Y) :- e(X, Y).",
      "p(X, Z) :- p(X, Y), e(Y, Z).",
      "p(X, Z) :- p(X, Y), p(Y, Z).",
      "q(X, Y) :- p(Y, X).",
      "q(X, Z) :- q(X, Y), p(Y, Z).",
      "p(X, Y) :- q(X, Y), X != Y.",
      "r(X) :- e(X, _), not p(X, X).",
      "r(X) :- q(X, Y), Y > 2.",
      "s(X, N) :- p(X, _), N = count(X).",
      "s(X, M) :- q(X, Y), M = max(Y).",
      "t(X, Z) :- e(X, Y), Z = X + Y * 2.",
      "t(X, Y) :- t(X, Z), e(Z, Y), Y < 6.",
      "u(X) :- r(X), not s(X, 1).",
      "q(X, Y) :- p(X, Y), e(Y, X).",
      "r(X) :- q(X, Y), p(Y, X).",
    ];
    fc.assert(
      fc.property(
        fc.subarray(templates, { minLength: 1 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })), { maxLength: 20 }),
        (rules, edges) => {
          let program;
          try {
            program = parseProgram(rules.join("\n") + "\ne(0, 0).");
          } catch (err) {
            if (err instanceof DatalogError && err.kind === "unstratifiable") return; // e.g. p <- q <- not p
            throw err;
          }
          const facts = { e: edges };
          const semi = evaluate(program, facts).toFactMap();
          const naive = evaluate(program, facts, { strategy: "naive" }).toFactMap();
          expect(semi).toEqual(naive);
        },
      ),
      { numRuns: 200, seed: 42 },
    );
  });
});

describe("arithmetic and comparisons", () => {
  it("evaluates with * and / before + and -, and parentheses first", () => {
    const db = run(
      `
      r(V) :- n(A, B, C), V = A + B * C - (A - B) / 2.
      s(V) :- n(A, B, C), V = (A + B) * (C - A) / -B.
      t(V) :- n(A, B, C), V = A - B - C.
      u(V) :- n(A, B, C), V = A / B / C.
    `,
      { n: [[10, 4, 3]] },
    );
    expect(db.toFactMap()).toEqual({ r: [[19]], s: [[24.5]], t: [[3]], u: [[10 / 4 / 3]] });
  });

  it("compares numbers numerically and texts by code unit, never across kinds", () => {
    const db = run(
      `
      lt(X, Y) :- v(X), v(Y), X < Y.
      eq(X) :- v(X), X = 2.
      ne(X) :- v(X), X != 2.
      ge(X) :- v(X), X >= "b".
    `,
      { v: [[2], [10], ["2"], ["a"], ["b"]] },
    );
    expect(db.toFactMap(["lt", "eq", "ne", "ge"])).toEqual({
      lt: [[2, 10], ["2", "a"], ["2", "b"], ["a", "b"]],
      eq: [[2]],
      ne: [[10], ["2"], ["a"], ["b"]],
      ge: [["b"]],
    });
  });

  it("drops a match whose arithmetic fails (text operand, division by zero) instead of aborting", () => {
    const db = run("ratio(K, R) :- pair(K, A, B), R = A / B.", { pair: [["ok", 6, 3], ["zero", 1, 0], ["text", "x", 2]] });
    expect(db.query("ratio")).toEqual([["ok", 2]]);
  });

  it("uses an assignment as an equality test when the variable is already bound", () => {
    const db = run("twice(X, Y) :- n(X), m(Y), Y = X * 2.", { n: [[1], [2], [3]], m: [[2], [4], [5]] });
    expect(db.toFactMap(["twice"])).toEqual({ twice: [[1, 2], [2, 4]] });
  });

  it("matches a JSON string against the atom of the same text, and zero-arity facts as [[]]", () => {
    const facts = parseFactMap({ query_regression: [[42, "same_load", 35.0]], workload_shift: [[]] });
    const db = evaluate(parseProgram("hit(Q) :- query_regression(Q, same_load, _). shift() :- workload_shift()."), facts);
    expect(db.toFactMap()).toEqual({ hit: [[42]], shift: [[]] });
  });
});

describe("aggregates", () => {
  const employees = {
    employee: [
      ["alice", "engineering", 100],
      ["bob", "engineering", 250],
      ["carol", "sales", 75],
      ["dave", "sales", 75],
      ["eve", "sales", 50],
    ],
  };

  it("count counts body matches per group (Datalox's fixture: engineering 2, sales 3)", () => {
    const db = run("dept_size(Dept, N) :- employee(_, Dept, _), N = count(Dept).", employees);
    expect(db.toFactMap()).toEqual({ dept_size: [["engineering", 2], ["sales", 3]] });
  });

  it("sum, min, max and avg aggregate a variable per group; equal values from distinct facts all count", () => {
    const db = run(
      `
      total(D, T) :- employee(_, D, S), T = sum(S).
      lowest(D, M) :- employee(_, D, S), M = min(S).
      highest(D, M) :- employee(_, D, S), M = max(S).
      mean(D, A) :- employee(_, D, S), A = avg(S).
      everyone(T) :- employee(_, _, S), T = sum(S).
      first_name(F) :- employee(Name, _, _), F = min(Name).
    `,
      employees,
    );
    expect(db.toFactMap()).toEqual({
      total: [["engineering", 350], ["sales", 200]],
      lowest: [["engineering", 100], ["sales", 50]],
      highest: [["engineering", 250], ["sales", 75]],
      mean: [["engineering", 175], ["sales", 200 / 3]],
      everyone: [[550]],
      first_name: [["alice"]],
    });
  });

  it("filters groups by a condition on the aggregate result and computes from it", () => {
    const db = run("big(D, Pct) :- employee(_, D, _), N = count(D), N > 2, Pct = N * 100 / 5.", employees);
    expect(db.query("big")).toEqual([["sales", 60]]);
  });

  it("aggregates a recursive predicate from a later stratum and yields nothing for empty input", () => {
    const program = parseProgram(`${CLOSURE}\n reach_count(X, N) :- path(X, _), N = count(X).\n total(T) :- path(X, _), T = count(X).`);
    const db = evaluate(program, { edge: [[1, 2], [2, 3], [3, 1], [4, 1]] });
    expect(db.toFactMap(["reach_count", "total"])).toEqual({ reach_count: [[1, 3], [2, 3], [3, 3], [4, 3]], total: [[12]] });
    expect(evaluate(program, {}).toFactMap(["reach_count", "total"])).toEqual({ reach_count: [], total: [] });
  });

  it("produces no fact for a group whose values do not fit the function", () => {
    const db = run("t(K, S) :- v(K, X), S = sum(X).", { v: [["a", 1], ["a", "two"], ["b", 2]] });
    expect(db.query("t")).toEqual([["b", 2]]);
  });
});

describe("errors name the problem, the rule and the place", () => {
  it.each([
    [
      "h(X, Y) :- b(X).",
      "1:6: unsafe rule at line 1: variable Y in the head h(...) is not bound by a positive atom or an assignment (rule: h(X, Y) :- b(X).)",
    ],
    [
      "ok(X) :- b(X).\nh(X) :- b(X), not c(X, Y).",
      "2:24: unsafe rule at line 2: variable Y in the negated atom not c(...) is not bound by a positive atom or an assignment (rule: h(X) :- b(X), not c(X, Y).)",
    ],
    [
      "h(X) :- b(X), Y > 3.",
      "1:15: unsafe rule at line 1: variable Y in a comparison (>) is not bound by a positive atom or an assignment (rule: h(X) :- b(X), Y > 3.)",
    ],
    [
      "h(X, Z) :- b(X), Z = Y + 1.",
      "1:22: unsafe rule at line 1: variable Y in a comparison (=) is not bound by a positive atom or an assignment (rule: h(X, Z) :- b(X), Z = Y + 1.)",
    ],
    [
      "h(X) :- not b(X).",
      "1:15: unsafe rule at line 1: variable X in the negated atom not b(...) is not bound by a positive atom or an assignment (rule: h(X) :- not b(X).)",
    ],
    ["h(_) :- b(_).", "1:3: unsafe rule at line 1: '_' in the head; every head argument must be a constant or a variable bound in the body (rule: h(_) :- b(_).)"],
    [
      "s(D, T) :- e(D), T = sum(S).",
      "1:26: unsafe rule at line 1: variable S in the aggregate sum(...) is not bound by a positive atom or an assignment (rule: s(D, T) :- e(D), T = sum(S).)",
    ],
  ])("unsafe: %s", (text, message) => {
    const err = errorOf(text);
    expect(err.kind).toBe("unsafe");
    expect(err.message).toBe(message);
  });

  it("accepts variables bound by a chain of assignments in any order", () => {
    const db = run("h(X, C) :- C = B * 2, B = A + 1, n(X), A = X * 10.", { n: [[1]] });
    expect(db.query("h")).toEqual([[1, 22]]);
  });

  it("rejects negation through recursion, naming the cycle", () => {
    const err = errorOf("p(X) :- r(X), not q(X).\nq(X) :- r(X), p(X).");
    expect(err.kind).toBe("unstratifiable");
    expect(err.message).toBe("1:1: unstratifiable program: negation through recursion in the cycle p -> not q -> p (rule at line 1: p(X) :- r(X), not q(X).)");
  });

  it("names longer cycles and direct self-negation", () => {
    expect(errorOf("a(X) :- n(X), not b(X).\nb(X) :- c(X).\nc(X) :- a(X).").message).toContain("in the cycle a -> not b -> c -> a");
    expect(errorOf("win(X) :- move(X, Y), not win(Y).").message).toBe(
      "1:1: unstratifiable program: negation through recursion in the cycle win -> not win (rule at line 1: win(X) :- move(X, Y), not win(Y).)",
    );
  });

  it("rejects aggregation through recursion", () => {
    const err = errorOf("size(N) :- item(X), N = count(X).\nitem(X) :- size(X).");
    expect(err.kind).toBe("unstratifiable");
    expect(err.message).toContain("aggregation through recursion in the cycle size -> aggregate item -> size");
  });

  it("rejects facts that do not fit the program", () => {
    const program = parseProgram("p(X) :- e(X, _).");
    expect(() => evaluate(program, { e: [[1]] })).toThrow("invalid facts: e is given with 1 argument(s), but the rules use it with 2");
    expect(() => parseFactMap({ e: [[1, true]] })).toThrow("invalid facts at e[0][1]: expected a string or a finite number");
    expect(() => parseFactMap({ E: [[1]] })).toThrow("invalid facts at E: predicate names start with a lowercase letter");
    expect(() => parseFactMap({ e: [[1, 2], [3]] })).toThrow("invalid facts at e[1]: 1 argument(s), but e[0] has 2");
    expect(() => parseFactMap([1, 2])).toThrow("invalid facts: expected an object mapping predicate names to arrays of facts, e.g. {\"metric_degraded\": [[\"tps\"]]}");
  });
});

describe("determinism", () => {
  it("gives the same facts in the same order every run, and the same answer whatever the rule order", () => {
    const rules = ["path(X, Y) :- edge(X, Y).", "path(X, Z) :- path(X, Y), edge(Y, Z).", "far(X, Y) :- path(X, Y), not edge(X, Y)."];
    const edges = { edge: [[3, 1], [1, 2], [2, 3], [2, 4], [4, 5]] };
    const a = run(rules.join("\n"), edges);
    const b = run(rules.join("\n"), edges);
    expect(a.query("path")).toEqual(b.query("path"));
    expect(a.stats).toEqual(b.stats);
    const reversed = run([...rules].reverse().join("\n"), edges);
    expect(reversed.toFactMap(["path", "far"])).toEqual(a.toFactMap(["path", "far"]));
  });

  it("answers existence-only joins without enumerating the cross product", () => {
    const many = Array.from({ length: 3000 }, (_, i) => [i]);
    const db = run("both() :- a(_), b(_), c(_).", { a: many, b: many, c: many });
    expect(db.query("both")).toEqual([[]]);
  });
});
