/**
 * Aggregates in Datalox's form, `N = count(...)`, `T = sum(X)`, `M = min(X)`, `M = max(X)`,
 * `A = avg(X)`. The group is the head's variables other than the results; each distinct match of
 * the body (every atom's fact, `_` included) counts once, so
 *   dept_size(D, N) :- employee(_, D), N = count(D).
 * counts employees per department, as in Datalox. count's arguments are accepted as Datalox
 * writes them (it lists the group there) and do not change the count.
 *
 * sum and avg need numbers; min and max take numbers or texts (not mixed). A group whose values
 * do not fit produces no fact, like a failed comparison. Empty groups produce nothing.
 */
import type { AggregateFn, Value } from "./ast";
import { orderValues } from "./expr";

export interface Accumulator {
  add(value: Value | undefined): void;
  /** The aggregate's value, or undefined if the group's values do not fit the function. */
  result(): Value | undefined;
}

export function accumulator(fn: AggregateFn): Accumulator {
  let count = 0;
  let sum = 0;
  let best: Value | undefined;
  let invalid = false;
  switch (fn) {
    case "count":
      return {
        add: () => void count++,
        result: () => count,
      };
    case "sum":
    case "avg":
      return {
        add: (v) => {
          count++;
          if (typeof v === "number") sum += v;
          else invalid = true;
        },
        result: () => {
          if (invalid || count === 0) return undefined;
          const r = fn === "sum" ? sum : sum / count;
          return Number.isFinite(r) ? (r === 0 ? 0 : r) : undefined;
        },
      };
    case "min":
    case "max":
      return {
        add: (v) => {
          if (v === undefined) {
            invalid = true;
            return;
          }
          if (best === undefined) best = v;
          else if (typeof best !== typeof v) invalid = true;
          else if (fn === "min" ? orderValues(v, best) < 0 : orderValues(v, best) > 0) best = v;
        },
        result: () => (invalid ? undefined : best),
      };
  }
}
