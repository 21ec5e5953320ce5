import { describe, expect, it } from "vitest";
import { DatalogError, evaluate, formatExplanation, parseProgram, type Explanation, type Premise } from "../../../src/core/datalog";

const CLOSURE = "path(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).";

/** Every fact in a tree, as text, in depth-first order. */
function factsIn(node: Premise): string[] {
  const own = "fact" in node ? [`${node.kind}:${node.fact.predicate}(${node.fact.args.join(",")})`] : [`${node.kind}`];
  const children = node.kind === "derived" ? node.because : node.kind === "aggregate" ? node.examples : [];
  return [...own, ...children.flatMap(factsIn)];
}

describe("explain", () => {
  it("gives the derivation tree of a recursive fact, rule lines included, down to given facts", () => {
    const db = evaluate(parseProgram(CLOSURE), { edge: [[1, 2], [2, 3], [3, 4]] });
    const tree = db.explain("path(1, 4)")!;
    expect(tree).toMatchObject({ kind: "derived", rule: { line: 2, text: "path(X, Z) :- path(X, Y), edge(Y, Z)." } });
    expect(factsIn(tree)).toEqual([
      "derived:path(1,4)",
      "derived:path(1,3)",
      "derived:path(1,2)",
      "given:edge(1,2)",
      "given:edge(2,3)",
      "given:edge(3,4)",
    ]);
    expect(formatExplanation(tree)).toBe(
      [
        "path(1, 4)  <- rule at line 2: path(X, Z) :- path(X, Y), edge(Y, Z).",
        "├─ path(1, 3)  <- rule at line 2: path(X, Z) :- path(X, Y), edge(Y, Z).",
        "│  ├─ path(1, 2)  <- rule at line 1: path(X, Y) :- edge(X, Y).",
        "│  │  └─ edge(1, 2)  (given)",
        "│  └─ edge(2, 3)  (given)",
        "└─ edge(3, 4)  (given)",
      ].join("\n"),
    );
  });

  it("never explains a fact by itself on a cyclic graph", () => {
    const db = evaluate(parseProgram(CLOSURE), { edge: [[1, 2], [2, 1]] });
    const tree = db.explain("path(1, 1)")!;
    expect(factsIn(tree)).toEqual(["derived:path(1,1)", "derived:path(1,2)", "given:edge(1,2)", "given:edge(2,1)"]);
  });

  it("shows negations as absent facts and comparisons with their values", () => {
    const db = evaluate(
      parseProgram("late(J, D) :- job(J, Start, End), not cancelled(J, _), D = End - Start, D > 60."),
      { job: [["backup", 100, 400]], cancelled: [["other", "x"]] },
    );
    const tree = db.explain({ predicate: "late", args: ["backup", 300] })!;
    expect(tree.kind === "derived" && tree.because).toEqual([
      { kind: "given", fact: { predicate: "job", args: ["backup", 100, 400] } },
      { kind: "absent", atom: "cancelled(backup, _)" },
      { kind: "condition", text: "300 = 400 - 100" },
      { kind: "condition", text: "300 > 60" },
    ]);
  });

  it("shows an aggregate's value, its number of matches and the facts of the first ones", () => {
    const db = evaluate(parseProgram("busy(D, N) :- task(_, D), N = count(D), N >= 2."), {
      task: [["a", "db"], ["b", "db"], ["c", "web"]],
    });
    expect(db.explain("busy(web, 1)")).toBeNull();
    const tree = db.explain("busy(db, 2)")!;
    expect(formatExplanation(tree)).toBe(
      [
        "busy(db, 2)  <- rule at line 1: busy(D, N) :- task(_, D), N = count(D), N >= 2.",
        "├─ count(D) = 2  (over 2 matches)",
        "│  ├─ task(a, db)  (given)",
        "│  └─ task(b, db)  (given)",
        "└─ 2 >= 2  (holds)",
      ].join("\n"),
    );
  });

  it("returns null for a fact that does not hold, and marks given facts as given even if derivable", () => {
    const db = evaluate(parseProgram(CLOSURE), { edge: [[1, 2]], path: [[1, 2]] });
    expect(db.explain("path(2, 1)")).toBeNull();
    expect(db.explain("nosuch(1)")).toBeNull();
    expect(db.explain("path(1, 2)")).toEqual({ kind: "given", fact: { predicate: "path", args: [1, 2] } });
  });

  it("stops at the node budget on deep trees", () => {
    const db = evaluate(parseProgram(CLOSURE), { edge: Array.from({ length: 200 }, (_, i) => [i, i + 1]) });
    const tree = db.explain("path(0, 200)", { maxNodes: 10 })!;
    const kinds = factsIn(tree).map((f) => f.split(":")[0]);
    expect(kinds.filter((k) => k === "derived")).toHaveLength(10);
    expect(kinds).toContain("truncated");
  });

  it("stops at the depth limit on long recursive chains instead of exhausting the stack", () => {
    const db = evaluate(parseProgram(CLOSURE), { edge: Array.from({ length: 1000 }, (_, i) => [i, i + 1]) });
    let node: Premise = db.explain("path(0, 1000)")!;
    let depth = 0;
    while (node.kind === "derived") {
      depth++;
      node = node.because[0]!;
    }
    expect(depth).toBe(100);
    expect(node).toEqual({ kind: "truncated", fact: { predicate: "path", args: [0, 900] } });
    expect(formatExplanation(db.explain("path(0, 1000)", { maxDepth: 2 })!)).toContain("path(0, 998)  (… not expanded: explanation size limit)");
  });

  it("rejects a non-ground or malformed fact with a syntax error", () => {
    const db = evaluate(parseProgram(CLOSURE), {});
    expect(() => db.explain("path(X, 1)")).toThrow(DatalogError);
    expect(() => db.explain("path(1, 2")).toThrow("1:10: expected ',' or ')' in the arguments of path, found the end of the input");
  });

  it("explains a fact of every type of rule in a random program the same way evaluation derived it", () => {
    // Every derived fact has an explanation whose leaves are given facts (no throw, no null).
    const db = evaluate(
      parseProgram(`${CLOSURE}\nsame(X) :- path(X, X).\nlonely(X) :- node(X), not same(X).\nsize(N) :- path(X, _), N = count(X).`),
      { edge: [[1, 2], [2, 3], [3, 1], [3, 4]], node: [[1], [4], [5]] },
    );
    for (const p of ["path", "same", "lonely", "size"]) {
      for (const args of db.query(p)) {
        const tree: Explanation | null = db.explain({ predicate: p, args: [...args] });
        expect(tree?.kind).toBe("derived");
      }
    }
  });
});
