import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromCumulative, meanOf, mergeMoments, stddevOf, windowBetween } from "../../../src/core/metrics";
import { EntryAccumulator, populationStats } from "../../support/metrics-fixtures";

const time = fc.double({ min: 0.001, max: 5_000, noNaN: true, noDefaultInfinity: true });

describe("window moments from pg_stat_statements' cumulative calls, total and stddev", () => {
  it("recovers the window's mean and population stddev exactly as direct computation (property)", () => {
    fc.assert(
      fc.property(fc.array(time, { minLength: 1, maxLength: 200 }), fc.array(time, { minLength: 1, maxLength: 200 }), (before, during) => {
        const acc = new EntryAccumulator();
        for (const x of before) acc.add(x);
        const previous = acc.snapshot();
        for (const x of during) acc.add(x);
        const w = windowBetween(previous, acc.snapshot())!;
        const direct = populationStats(during);
        expect(w.calls).toBe(during.length);
        expect(meanOf(w)!).toBeCloseTo(direct.mean, 6);
        // Relative to the spread of the whole history: the subtraction loses at most that much.
        const scale = Math.max(1, populationStats([...before, ...during]).sd, direct.mean);
        expect(Math.abs(stddevOf(w)! - direct.sd)).toBeLessThan(1e-6 * scale);
      }),
      { numRuns: 300 },
    );
  });

  it("stays accurate for a short window after a long history (1e6 calls, then 100)", () => {
    const acc = new EntryAccumulator();
    let seed = 1;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 1_000_000; i++) acc.add(0.05 + rand() * 0.1);
    const previous = acc.snapshot();
    const during: number[] = [];
    for (let i = 0; i < 100; i++) {
      const x = 2 + rand() * 6; // the query got 40× slower
      during.push(x);
      acc.add(x);
    }
    const w = windowBetween(previous, acc.snapshot())!;
    const direct = populationStats(during);
    expect(meanOf(w)!).toBeCloseTo(direct.mean, 6);
    expect(stddevOf(w)!).toBeCloseTo(direct.sd, 4);
  });

  it("is undefined when calls went backwards (entry reset or evicted and re-created)", () => {
    expect(windowBetween({ calls: 10, totalMs: 50, stddevMs: 1 }, { calls: 3, totalMs: 9, stddevMs: 0.5 })).toBeUndefined();
  });

  it("a window without calls is empty, not NaN", () => {
    const w = windowBetween({ calls: 10, totalMs: 50, stddevMs: 1 }, { calls: 10, totalMs: 50, stddevMs: 1 })!;
    expect(w).toEqual({ calls: 0, sumMs: 0, m2: 0 });
    expect(meanOf(w)).toBeNull();
    expect(stddevOf(w)).toBeNull();
  });

  it("merging two sets of calls equals computing over their union (property)", () => {
    fc.assert(
      fc.property(fc.array(time, { minLength: 1, maxLength: 100 }), fc.array(time, { minLength: 1, maxLength: 100 }), (a, b) => {
        const ma = new EntryAccumulator();
        a.forEach((x) => ma.add(x));
        const mb = new EntryAccumulator();
        b.forEach((x) => mb.add(x));
        const merged = mergeMoments(fromCumulative(ma.snapshot()), fromCumulative(mb.snapshot()));
        const direct = populationStats([...a, ...b]);
        expect(merged.calls).toBe(a.length + b.length);
        expect(meanOf(merged)!).toBeCloseTo(direct.mean, 6);
        expect(Math.abs(stddevOf(merged)! - direct.sd)).toBeLessThan(1e-6 * Math.max(1, direct.mean));
      }),
      { numRuns: 200 },
    );
  });
});
