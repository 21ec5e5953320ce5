import { describe, expect, it } from "vitest";
import { DatalogError, parseProgram } from "../../../src/core/datalog";
import { parseSource } from "../../../src/core/datalog/parser";

/** The DatalogError a program throws (fails the test if it parses). */
function errorOf(text: string): DatalogError {
  try {
    parseProgram(text);
  } catch (err) {
    if (err instanceof DatalogError) return err;
    throw err;
  }
  throw new Error(`expected a DatalogError for: ${text}`);
}

describe("Datalog syntax (Datalox's .dl form)", () => {
  it("parses facts with atoms, strings, integers, floats, negative numbers and zero arity", () => {
    const { facts } = parseSource(`
      % a comment line
      p(a, "s", 42, 3.14).   % trailing comment
      q(-5, -0.25, 1.5e3, "with \\"quotes\\"").
      flag().
    `);
    expect(facts.map((f) => [f.predicate, f.args])).toEqual([
      ["p", ["a", "s", 42, 3.14]],
      ["q", [-5, -0.25, 1500, 'with "quotes"']],
      ["flag", []],
    ]);
    expect(facts[0]!.at).toEqual({ line: 3, column: 7 });
  });

  it("parses a rule with positive atoms, negation, comparisons and an assignment", () => {
    const { rules } = parseSource("h(X) :- b1(X, Y), not b2(Y), Y > 3, Z = X * 2 + 1.");
    const rule = rules[0]!;
    expect(rule.head.predicate).toBe("h");
    expect(rule.body.map((l) => l.kind)).toEqual(["positive", "negative", "compare", "compare"]);
    expect(rule.text).toBe("h(X) :- b1(X, Y), not b2(Y), Y > 3, Z = X * 2 + 1.");
    const assign = rule.body[3]!;
    expect(assign).toMatchObject({
      kind: "compare",
      op: "=",
      left: { kind: "var", name: "Z" },
      right: { kind: "binary", op: "+", left: { kind: "binary", op: "*" }, right: { kind: "const", value: 1 } },
    });
  });

  it("gives * and / precedence over + and -, left-associative, with parentheses overriding", () => {
    const rule = parseSource("r(X) :- v(X, A, B, C), A - B / 2 > (A + B) * C - 1 - 2.").rules[0]!;
    expect(rule.body[1]).toMatchObject({
      op: ">",
      left: { op: "-", left: { kind: "var", name: "A" }, right: { op: "/", left: { name: "B" }, right: { value: 2 } } },
      // ((A + B) * C - 1) - 2
      right: { op: "-", left: { op: "-", left: { op: "*", left: { op: "+" } }, right: { value: 1 } }, right: { value: 2 } },
    });
  });

  it("reads A-1 as a subtraction and T < -10 as a negative constant", () => {
    const rule = parseSource("r(X) :- v(X, A, T), A-1 > 0, T < -10.").rules[0]!;
    expect(rule.body[1]).toMatchObject({ left: { kind: "binary", op: "-", right: { value: 1 } } });
    expect(rule.body[2]).toMatchObject({ right: { kind: "const", value: -10 } });
  });

  it("treats _ as a wildcard, _Name as a variable, and `not` only as a keyword", () => {
    const rule = parseSource("r(X) :- p(_, X, _Y), not q(_), nothing(X).").rules[0]!;
    expect(rule.body[0]).toMatchObject({ atom: { args: [{ kind: "wildcard" }, { kind: "var", name: "X" }, { kind: "var", name: "_Y" }] } });
    expect(rule.body[1]!.kind).toBe("negative");
    expect(rule.body[2]).toMatchObject({ kind: "positive", atom: { predicate: "nothing" } });
  });

  it("parses aggregates in Datalox's form Var = fn(...)", () => {
    const rule = parseSource("dept_size(Dept, N) :- employee(_, Dept), N = count(Dept).").rules[0]!;
    expect(rule.body[1]).toEqual({ kind: "aggregate", fn: "count", result: "N", args: [expect.objectContaining({ name: "Dept" })], at: { line: 1, column: 42 } });
    for (const fn of ["sum", "min", "max", "avg"]) {
      expect(parseSource(`t(P, R) :- sale(P, A), R = ${fn}(A).`).rules[0]!.body[1]).toMatchObject({ kind: "aggregate", fn, result: "R" });
    }
  });

  it("keeps rules' source text without comments, for messages and explanations", () => {
    const rule = parseSource("a(X) :-   % why\n    b(X),\n    % more\n    c(X).").rules[0]!;
    expect(rule.text).toBe("a(X) :- b(X), c(X).");
    expect(rule.at).toEqual({ line: 1, column: 1 });
  });
});

describe("syntax errors say where (line:column) and what was expected", () => {
  it.each([
    ["p(a, b", "1:7: expected ',' or ')' in the arguments of p, found the end of the input"],
    ["p(a).\nq(X) :- p(X)\nr(1).", "3:1: expected ',' or '.' after a body literal, found the atom r"],
    ["p(a) :- q(a) r(a).", "1:14: expected ',' or '.' after a body literal, found the atom r"],
    ["p(X) :- q(X), X >> 3.", "1:18: expected a value (a variable, a number, an atom, a string or '('), found '>'"],
    ["p(X) :- q(X), flag.", "1:19: expected a comparison operator (<, <=, >, >=, =, !=) or '(' after the predicate name flag (a predicate without arguments is written flag()), found '.'"],
    ["p(X) :- q(X), X ! 3.", "1:17: expected '!=' (not equal), found '!'"],
    ["p(X) : q(X).", "1:6: expected ':-' (a rule is written head :- body.), found ':'"],
    ['p("open).', "1:3: unterminated string: expected a closing '\"' on the same line"],
    ["p(X).", "1:3: expected a constant in the fact p(...), found the variable X (facts are ground; did you mean a rule with ':-'?)"],
    ["P(a).", "1:1: expected a fact or a rule starting with a lowercase predicate name, found the variable P"],
    ["p(a) :- q(a), (1 + 2 > 0.", "1:22: expected ')' to close the parenthesis, found '>'"],
    ["p(N) :- q(X), N > count(X).", "1:19: expected an aggregate in the form Var = count(...), found one after '>'"],
    ["p(N) :- q(X, Y), N = sum(X, Y).", "1:22: expected exactly one variable in sum(...) (the value to aggregate), found 2"],
    ["p(a) :- q(a), # .", "1:15: unexpected character '#': expected an atom, a variable, a number, a string or punctuation"],
  ])("%s", (text, message) => {
    const err = errorOf(text);
    expect(err.kind).toBe("syntax");
    expect(err.message).toBe(message);
  });

  it("reports one predicate used with two arities", () => {
    const err = errorOf("edge(1, 2).\npath(X) :- edge(X, Y, Z).");
    expect(err.kind).toBe("arity");
    expect(err.message).toBe("2:12: predicate edge is used with 3 argument(s) here but with 2 at 1:1");
  });
});
