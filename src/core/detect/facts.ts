/**
 * Detection output as Datalog facts, kept as plain data so this module does not depend on the
 * engine: `{ pred, args }` with atoms as strings ("tps", "same_load", "oltp") and numbers as
 * numbers. `toFactMap` gives the engine's JSON input, `{"pred": [[arg, …], …]}`, where a string
 * stands for the atom of the same text and a zero-arity fact is `[[]]`.
 *
 * Predicates (the seed's vocabulary):
 *   metric_degraded(M)                 cusum_degradation(M, S)        metric_value(M, V)
 *   query_regression(QueryId, same_load|changed_load, Pct)           workload(Class)
 *   workload_shift()                   otava_change_point(M, Magnitude)
 *   usl_deviation(D)                   seasonal_expected(M, V)        high_confidence()
 */
import { z } from "zod";

export type FactArg = string | number;

export interface Fact {
  pred: string;
  args: FactArg[];
}

export type FactMap = Record<string, FactArg[][]>;

export const factSchema = z.object({ pred: z.string().min(1), args: z.array(z.union([z.string(), z.number().finite()])) });

export function fact(pred: string, ...args: FactArg[]): Fact {
  return { pred, args };
}

/** Group facts by predicate, in first-seen order, for the Datalog engine. */
export function toFactMap(facts: readonly Fact[]): FactMap {
  const map: FactMap = {};
  for (const f of facts) (map[f.pred] ??= []).push([...f.args]);
  return map;
}

/** Prolog-style text, for humans: `query_regression("42", same_load, 50)`. */
export function formatFact(f: Fact): string {
  const arg = (a: FactArg) => (typeof a === "number" ? String(a) : /^[a-z][a-z0-9_]*$/.test(a) ? a : JSON.stringify(a));
  return `${f.pred}(${f.args.map(arg).join(", ")})`;
}

/** Round for facts: enough digits to act on, few enough to read. */
export function round(value: number, digits = 4): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
