import { describe, expect, it } from "vitest";
import {
  DEFAULT_THRESHOLDS,
  byteLength,
  candidateIndexes,
  chooseHint,
  combineWindows,
  coveringIndex,
  createIndexDdl,
  hintAlternatives,
  indexNameFor,
  judgeIndex,
  makeCandidate,
  quoteIdent,
  selectIndexes,
  statementWindow,
  type ExistingIndex,
  type QueryCosting,
} from "../../../src/core/indexes";

const orders = { schema: "public", name: "orders" };

describe("index names and DDL", () => {
  it("names indexes pg2une_<table>_<cols> and quotes every identifier", () => {
    expect(indexNameFor("orders", ["customer_id"])).toBe("pg2une_orders_customer_id");
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
    expect(createIndexDdl({ schema: "sales", table: "Order Items", columns: ["a", 'b"c'], name: "pg2une_x" })).toBe(
      'CREATE INDEX CONCURRENTLY "pg2une_x" ON "sales"."Order Items" ("a", "b""c")',
    );
  });

  it("cuts long names to 63 bytes with a hash suffix, never splitting a UTF-8 character", () => {
    const a = indexNameFor("a_really_long_table_name_for_testing", ["first_long_column", "second_long_column"]);
    const b = indexNameFor("a_really_long_table_name_for_testing", ["first_long_column", "second_long_column_2"]);
    expect(byteLength(a)).toBeLessThanOrEqual(63);
    expect(a).toMatch(/^pg2une_a_really_long_table_name_for_testing_first_lo.*_[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    const unicode = indexNameFor("tablé_ünïcödé_ñame", ["çolumn_ønę", "çolumn_twø_ëxtra_lóng"]);
    expect(byteLength(unicode)).toBeLessThanOrEqual(63);
    expect(unicode).not.toContain("\uFFFD");
    expect(() => quoteIdent("")).toThrow(/empty/);
  });
});

describe("candidates and coverage", () => {
  it("proposes singles for every used column and ordered pairs led by a filter column", () => {
    const set = candidateIndexes(
      [
        { table: orders, column: "status", clauses: ["where"] },
        { table: orders, column: "created_at", clauses: ["order"] },
        { table: orders, column: "payload", clauses: ["where"] },
      ],
      (_t, c) => c !== "payload",
      6,
    );
    expect(set.singles.map((c) => c.key)).toEqual(["public.orders(status)", "public.orders(created_at)"]);
    expect(set.pairs.map((c) => c.key)).toEqual(["public.orders(status,created_at)"]);
    expect(set.notBtreeable).toEqual([{ table: orders, column: "payload" }]);
  });

  it("treats a candidate as covered by a valid, non-partial btree leading with its columns", () => {
    const existing: ExistingIndex[] = [
      { schema: "public", name: "orders_cust_created", table: orders, columns: ["customer_id", "created_at"], method: "btree", valid: true, partial: false, unique: false },
      { schema: "public", name: "orders_status_partial", table: orders, columns: ["status"], method: "btree", valid: true, partial: true, unique: false },
      { schema: "public", name: "orders_amount_hash", table: orders, columns: ["amount"], method: "hash", valid: true, partial: false, unique: false },
    ];
    expect(coveringIndex(makeCandidate(orders, ["customer_id"]), existing)?.name).toBe("orders_cust_created");
    expect(coveringIndex(makeCandidate(orders, ["customer_id", "created_at"]), existing)?.name).toBe("orders_cust_created");
    expect(coveringIndex(makeCandidate(orders, ["created_at"]), existing)).toBeNull();
    expect(coveringIndex(makeCandidate(orders, ["status"]), existing)).toBeNull();
    expect(coveringIndex(makeCandidate(orders, ["amount"]), existing)).toBeNull();
  });
});

describe("selectIndexes: Dexter's 50 % rule and the greedy cover", () => {
  const cust = makeCandidate(orders, ["customer_id"]);
  const status = makeCandidate(orders, ["status"]);
  const created = makeCandidate(orders, ["created_at"]);
  const statusCreated = makeCandidate(orders, ["status", "created_at"]);
  const all = [cust, status, created, statusCreated];

  it("recommends an index that halves the cost, and none for a query no index helps", () => {
    const costings: QueryCosting[] = [
      { queryId: "hot", weight: 1000, initialCost: 1800, withIndex: [{ key: cust.key, cost: 8.4, used: true }] },
      { queryId: "scan", weight: 50, initialCost: 2000, withIndex: [{ key: status.key, cost: 1900, used: true }] },
      { queryId: "unused", weight: 50, initialCost: 2000, withIndex: [{ key: created.key, cost: 2000, used: false }] },
      { queryId: "cheap", weight: 50, initialCost: 8, withIndex: [{ key: cust.key, cost: 4, used: true }] },
    ];
    const sel = selectIndexes(costings, all, DEFAULT_THRESHOLDS);
    expect(sel.chosen.map((c) => c.key)).toEqual([cust.key]);
    const byId = Object.fromEntries(sel.perQuery.map((q) => [q.queryId, q]));
    expect(byId.hot!.decision).toBe("index");
    expect(byId.scan!.decision).toBe("no_index");
    expect(byId.scan!.reason).toMatch(/cut the cost by 5 %, below minCostSavingsPct 50 %/);
    expect(byId.unused!.reason).toMatch(/used none/);
    expect(byId.cheap!.decision).toBe("low_cost");
  });

  it("takes a two-column index only when it halves the best single-column cost again", () => {
    const pairWins: QueryCosting = {
      queryId: "q",
      weight: 10,
      initialCost: 20_000,
      withIndex: [
        { key: status.key, cost: 5_000, used: true },
        { key: statusCreated.key, cost: 60, used: true },
      ],
    };
    expect(selectIndexes([pairWins], all, DEFAULT_THRESHOLDS).chosen.map((c) => c.key)).toEqual([statusCreated.key]);
    const pairBarelyBetter: QueryCosting = { ...pairWins, withIndex: [{ key: status.key, cost: 5_000, used: true }, { key: statusCreated.key, cost: 4_000, used: true }] };
    expect(selectIndexes([pairBarelyBetter], all, DEFAULT_THRESHOLDS).chosen.map((c) => c.key)).toEqual([status.key]);
  });

  it("prefers one shared index over two when it serves both queries", () => {
    const q1: QueryCosting = { queryId: "by-status", weight: 100, initialCost: 20_000, withIndex: [{ key: status.key, cost: 900, used: true }, { key: statusCreated.key, cost: 950, used: true }] };
    const q2: QueryCosting = {
      queryId: "status-recent",
      weight: 100,
      initialCost: 20_000,
      withIndex: [{ key: status.key, cost: 900, used: true }, { key: created.key, cost: 15_000, used: true }, { key: statusCreated.key, cost: 40, used: true }],
    };
    const sel = selectIndexes([q1, q2], all, DEFAULT_THRESHOLDS);
    expect(sel.chosen.map((c) => c.key)).toEqual([statusCreated.key]);
    expect(sel.chosen[0]!.queries).toEqual(["by-status", "status-recent"]);
    expect(sel.perQuery.every((q) => q.decision === "index")).toBe(true);
  });

  it("stops at maxIndexes and says so", () => {
    const costings: QueryCosting[] = [
      { queryId: "a", weight: 10, initialCost: 1000, withIndex: [{ key: cust.key, cost: 10, used: true }] },
      { queryId: "b", weight: 1, initialCost: 1000, withIndex: [{ key: status.key, cost: 10, used: true }] },
    ];
    const sel = selectIndexes(costings, all, { ...DEFAULT_THRESHOLDS, maxIndexes: 1 });
    expect(sel.chosen.map((c) => c.key)).toEqual([cust.key]);
    expect(sel.perQuery.find((q) => q.queryId === "b")!.reason).toMatch(/maxIndexes \(1\) reached/);
  });
});

describe("measurement: window means from cumulative counters, keep or drop", () => {
  it("derives a window's calls, mean and stddev from two readings", () => {
    // 10 calls of 1 ms, then 10 calls of 3 ms: the window holds only the second batch.
    const t0 = { queryId: "q", calls: 10, totalExecMs: 10, stddevExecMs: 0 };
    const t1 = { queryId: "q", calls: 20, totalExecMs: 40, stddevExecMs: 1 };
    const w = statementWindow(t0, t1)!;
    expect(w.calls).toBe(10);
    expect(w.meanMs).toBeCloseTo(3, 9);
    expect(w.stddevMs).toBeCloseTo(0, 6);
    expect(statementWindow(t1, t0)).toBeNull(); // a reset in between
    expect(combineWindows([{ calls: 1, meanMs: 10, stddevMs: null }, { calls: 3, meanMs: 2, stddevMs: null }, null])!.meanMs).toBe(4);
  });

  it("keeps an index that beat the margin, drops one that did not, and one it could not measure", () => {
    const t = DEFAULT_THRESHOLDS;
    expect(judgeIndex({ calls: 100, meanMs: 3, stddevMs: null }, { calls: 100, meanMs: 0.1, stddevMs: null }, t)).toMatchObject({ verdict: "improved", keep: true });
    expect(judgeIndex({ calls: 100, meanMs: 3, stddevMs: null }, { calls: 100, meanMs: 2.8, stddevMs: null }, t)).toMatchObject({ verdict: "not_improved", keep: false });
    expect(judgeIndex({ calls: 100, meanMs: 3, stddevMs: null }, { calls: 100, meanMs: 4, stddevMs: null }, t).reason).toMatch(/\+33\.3 %/);
    expect(judgeIndex({ calls: 100, meanMs: 3, stddevMs: null }, { calls: 2, meanMs: 0.1, stddevMs: null }, t)).toMatchObject({ verdict: "unmeasured", keep: false });
    expect(judgeIndex(null, { calls: 100, meanMs: 0.1, stddevMs: null }, { ...t, keepUnmeasured: true })).toMatchObject({ verdict: "unmeasured", keep: true });
  });
});

describe("pg_hint_plan alternatives", () => {
  it("proposes scan hints per relation and join hints per pair, and picks a measured winner", () => {
    const hints = hintAlternatives([{ relation: 0, refName: "o" }, { relation: 1, refName: "Cust" }]);
    expect(hints).toContain("IndexScan(o)");
    expect(hints).toContain('HashJoin(o "Cust")');
    expect(hints).toContain('NestLoop(o "Cust")');
    expect(chooseHint([{ hint: null, cost: 10, actualMs: 50 }, { hint: "NestLoop(o c)", cost: 30, actualMs: 5 }], 20)?.hint).toBe("NestLoop(o c)");
    expect(chooseHint([{ hint: null, cost: 10, actualMs: 50 }, { hint: "NestLoop(o c)", cost: 30, actualMs: 45 }], 20)).toBeNull();
  });
});
