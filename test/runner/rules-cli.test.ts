/**
 * `pg2une rules` as a user runs it: a real process, real files, stdout/stderr and exit codes.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "runner/bin/pg2une.js");
const dir = mkdtempSync(join(tmpdir(), "pg2une-rules-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function pg2une(args: string[], stdin?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

const ACCEPTANCE_FACTS = file(
  "f.json",
  JSON.stringify({ metric_degraded: [["tps"]], high_confidence: [[]], now: [[1000]], last_optimization_time: [[100]] }),
);

describe("pg2une rules", () => {
  it("prints the queried predicates as a JSON fact map", async () => {
    const r = await pg2une(["rules", "rules/pg2une.dl", "--facts", ACCEPTANCE_FACTS, "--query", "should_act", "--json"]);
    expect(r).toEqual({ code: 0, stdout: '{"should_act":[["knobs"]]}\n', stderr: "" });
  });

  it("adds the derivation tree under $explain, reads facts from stdin, and defaults to every derived predicate", async () => {
    const facts = JSON.stringify({ metric_degraded: [["tps"]], query_regression: [[7, "same_load", 40]], high_confidence: [[]] });
    const r = await pg2une(["rules", "rules/pg2une.dl", "--facts", "-", "--json", "--explain", "should_act(holistic)"], facts);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(["should_optimize", "action_ready", "suppress_action", "should_act", "action_blocked", "otava_confirmed", "usl_warning", "$explain"]);
    expect(out.should_act).toEqual([["holistic"]]);
    expect(out.$explain).toMatchObject({ kind: "derived", fact: { predicate: "should_act", args: ["holistic"] }, rule: { line: expect.any(Number) } });
    expect(JSON.stringify(out.$explain)).toContain('"fact":{"predicate":"metric_degraded","args":["tps"]}');
  });

  it("prints facts and the tree for humans without --json", async () => {
    const r = await pg2une(["rules", "rules/pg2une.dl", "--facts", ACCEPTANCE_FACTS, "--query", "should_act", "--query", "suppress_action", "--explain", "should_act(knobs)"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("should_act: 1 fact\n  should_act(knobs).\n\nsuppress_action: no facts\n\nwhy should_act(knobs):\nshould_act(knobs)  <- rule at line");
    expect(r.stdout).toContain("│  │  ├─ metric_degraded(tps)  (given)");
    const notHolding = await pg2une(["rules", "rules/pg2une.dl", "--facts", ACCEPTANCE_FACTS, "--query", "should_act", "--explain", "should_act(queries)", "--json"]);
    expect(notHolding.stdout).toBe('{"should_act":[["knobs"]],"$explain":null}\n');
  });

  it("reports every class of error on stderr with a non-zero exit and nothing on stdout", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["rules", file("syntax.dl", "p(a).\nq(X) :- p(X)\nr(1).\n")], /syntax\.dl:3:1: expected ',' or '\.' after a body literal, found the atom r$/m],
      [["rules", file("unsafe.dl", "h(X, Y) :- b(X).\n")], /unsafe\.dl:1:6: unsafe rule at line 1: variable Y in the head h\(\.\.\.\) is not bound/],
      [["rules", file("cycle.dl", "p(X) :- r(X), not q(X).\nq(X) :- r(X), p(X).\n")], /cycle\.dl:1:1: unstratifiable program: negation through recursion in the cycle p -> not q -> p/],
      [["rules", "rules/pg2une.dl", "--facts", file("bad.json", "{not json")], /bad\.json: not valid JSON: /],
      [["rules", "rules/pg2une.dl", "--facts", file("shape.json", '{"metric_degraded": ["tps"]}')], /shape\.json: invalid facts at metric_degraded\[0\]: expected an array of arguments/],
      [["rules", "rules/pg2une.dl", "--facts", file("arity.json", '{"now": [[1, 2]]}')], /arity\.json: invalid facts: now is given with 2 argument\(s\), but the rules use it with 1/],
      [["rules", "rules/pg2une.dl", "--query", "nope"], /--query: unknown predicate nope; rules\/pg2une\.dl and the facts know: /],
      [["rules", "rules/pg2une.dl", "--explain", "should_act(X)"], /--explain: 1:12: expected a constant in the fact should_act/],
      [["rules", join(dir, "missing.dl")], /cannot read rules file .*missing\.dl: ENOENT/],
      [["rules"], /pg2une rules: expected exactly one rules file, got 0/],
    ];
    const results = await Promise.all(cases.map(([args]) => pg2une(args)));
    results.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(" ")).not.toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(cases[i]![1]);
    });
  });
});
