/**
 * Facts as data: the JSON map `{"pred": [[arg, ...], ...]}` that detection emits, the CLI reads
 * and the evaluator accepts. A JSON string is the same value as the atom with that text
 * ("same_load" matches same_load); a zero-arity fact is `[[]]`.
 */
import { z } from "zod";
import type { Fact, Value } from "./ast";
import { DatalogError } from "./errors";

/** Predicate names as the .dl syntax writes them. */
export const PREDICATE_NAME = /^[a-z][A-Za-z0-9_]*$/;

export type FactMap = Record<string, Value[][]>;
export type FactMapInput = Readonly<Record<string, ReadonlyArray<readonly Value[]>>>;

const valueSchema = z.union([z.string(), z.number().finite()], {
  error: "expected a string or a finite number (facts hold atoms/strings and numbers only)",
});

/** zod schema for a fact map at a boundary (CLI file, HTTP body). */
export const factMapSchema = z.record(
  z.string().regex(PREDICATE_NAME, "predicate names start with a lowercase letter and contain only letters, digits and _"),
  z.array(z.array(valueSchema, { error: "expected an array of arguments, e.g. [\"tps\", 1.5] ([] for a zero-arity fact)" }), {
    error: "expected an array of facts, e.g. [[\"tps\"]] ([[]] for a zero-arity fact)",
  }),
);

const NOT_A_MAP = "expected an object mapping predicate names to arrays of facts, e.g. {\"metric_degraded\": [[\"tps\"]]}";

/** Parses unknown JSON into facts, or throws a "facts" DatalogError naming the bad path. */
export function parseFactMap(json: unknown): Fact[] {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new DatalogError("facts", `invalid facts: ${NOT_A_MAP}`);
  const parsed = factMapSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
    // A bad predicate name is reported by zod as "Invalid key in record" with the reason nested.
    const message = issue.code === "invalid_key" ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    throw new DatalogError("facts", `invalid facts${path ? ` at ${path.replace(/^\./, "")}` : ""}: ${message}`);
  }
  return factsFromMap(parsed.data);
}

/** Facts from an already-typed map, checking that each predicate keeps one arity. */
export function factsFromMap(map: FactMapInput): Fact[] {
  const facts: Fact[] = [];
  for (const [predicate, tuples] of Object.entries(map)) {
    if (!PREDICATE_NAME.test(predicate)) {
      throw new DatalogError("facts", `invalid facts: "${predicate}" is not a predicate name (lowercase letter first, then letters, digits, _)`);
    }
    const arity = tuples[0]?.length;
    tuples.forEach((args, i) => {
      if (args.length !== arity) {
        throw new DatalogError("facts", `invalid facts at ${predicate}[${i}]: ${args.length} argument(s), but ${predicate}[0] has ${arity}`);
      }
      args.forEach((v, j) => {
        if (typeof v !== "string" && (typeof v !== "number" || !Number.isFinite(v))) {
          throw new DatalogError("facts", `invalid facts at ${predicate}[${i}][${j}]: expected a string or a finite number, got ${JSON.stringify(v)}`);
        }
      });
      facts.push({ predicate, args: args.map((v) => (v === 0 ? 0 : v)) });
    });
  }
  return facts;
}

export function factsToMap(facts: readonly Fact[]): FactMap {
  const map: FactMap = {};
  for (const f of facts) (map[f.predicate] ??= []).push([...f.args]);
  return map;
}
