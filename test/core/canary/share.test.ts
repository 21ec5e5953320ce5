import { describe, expect, it } from "vitest";
import { computeCanaryShare, statementDeltas, type StatementCallsRow } from "../../../src/core/canary";

const rows = (o: Record<string, number>): StatementCallsRow[] => Object.entries(o).map(([queryid, calls]) => ({ queryid, calls }));

describe("canary share from pg_stat_statements deltas", () => {
  it("counts the statements the canary ran, on both nodes, over the window", () => {
    const share = computeCanaryShare({
      primaryBefore: rows({ read: 1000, write: 500 }),
      primaryAfter: rows({ read: 1750, write: 900 }),
      canaryBefore: rows({ read: 10 }),
      canaryAfter: rows({ read: 260 }),
    });
    // read: primary +750, canary +250; the write (primary only) is not a read the canary could serve.
    expect(share).toMatchObject({ share: 0.25, canaryCalls: 250, primaryCalls: 750, statements: 1 });
  });

  it("treats a counter that went backwards as a reset, never a negative count", () => {
    const d = statementDeltas(rows({ a: 500, b: 10 }), rows({ a: 40, b: 15, c: 7 }));
    expect(Object.fromEntries(d.byQuery)).toEqual({ a: 40, b: 5, c: 7 });
    expect(d.reset).toBe(true);
    const share = computeCanaryShare({
      primaryBefore: rows({ q: 100 }),
      primaryAfter: rows({ q: 400 }),
      canaryBefore: rows({ q: 9000 }),
      canaryAfter: rows({ q: 100 }),
    });
    expect(share.counterReset).toEqual({ primary: false, canary: true });
    expect(share.share).toBeCloseTo(0.25);
  });

  it("reports 0 when only the primary served, and null when nothing ran", () => {
    const idle = rows({ q: 5 });
    expect(computeCanaryShare({ primaryBefore: idle, primaryAfter: rows({ q: 105 }), canaryBefore: idle, canaryAfter: idle })).toMatchObject({ share: 0, primaryCalls: 100 });
    expect(computeCanaryShare({ primaryBefore: idle, primaryAfter: idle, canaryBefore: [], canaryAfter: [] }).share).toBeNull();
  });
});
