import { describe, expect, it } from "vitest";
import { Relation } from "../../../src/core/datalog/relation";

describe("Relation storage", () => {
  it("deduplicates facts and keeps 1, 1.5, \"1\" and atoms distinct across table growth", () => {
    const r = new Relation("v", 2);
    const values = [1, 1.5, -2, "1", "a", "", "ü", 1e21, 0.1 + 0.2];
    for (let round = 0; round < 2; round++) {
      for (const a of values) for (const b of values) r.insert([a, b], round);
    }
    expect(r.size).toBe(values.length ** 2);
    expect(r.find([1, "1"])).toBeGreaterThanOrEqual(0);
    expect(r.find(["1", 1])).not.toBe(r.find([1, "1"]));
    expect(r.find([0.3, 1])).toBe(-1);
    expect(r.tuple(r.find([1e21, "ü"]))).toEqual([1e21, "ü"]);
    expect(new Set(r.ranks)).toEqual(new Set([0])); // the second round added nothing
  });

  it("holds zero-arity facts once and maintains indexes built before and after inserts", () => {
    const flag = new Relation("flag", 0);
    expect([flag.insert([], 0), flag.insert([], 1), flag.size]).toEqual([true, false, 1]);

    const edge = new Relation("edge", 2);
    edge.insert([1, 2], 0);
    const bySource = edge.index([0]);
    for (let i = 0; i < 1000; i++) edge.insert([i % 10, i], 0);
    expect(bySource.lookup1(1)).toEqual([0, ...Array.from({ length: 100 }, (_, k) => 2 + k * 10)]); // [1,2] then i = 1, 11, … at seq i + 1
    expect(edge.index([0, 1]).lookup([3, 13])).toEqual([14]);
  });
});
