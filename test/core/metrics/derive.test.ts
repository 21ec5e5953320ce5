import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  derive,
  MetricsItemSchema,
  PG_STAT_STATEMENTS_INSTRUCTION,
  RawSampleSchema,
  SnapshotSchema,
  type RawSample,
  type Snapshot,
  type StatementEntry,
} from "../../../src/core/metrics";
import { EntryAccumulator, populationStats, sample, statement, T0 } from "../../support/metrics-fixtures";

const RATE_FIELDS = [
  "tps",
  "qps",
  "latency_mean",
  "latency_p50",
  "latency_p95",
  "latency_p99",
  "statement_latency_mean",
  "statement_latency_p50",
  "statement_latency_p95",
  "statement_latency_p99",
  "statements_per_transaction",
  "client_latency_mean_upper_bound",
  "connected_sessions_mean",
  "buffer_hit_ratio",
  "temp_bytes_per_sec",
  "wal_bytes_per_sec",
  "deadlocks",
  "checkpoints_timed",
  "checkpoints_req",
  "statements_evicted",
] as const satisfies ReadonlyArray<keyof Snapshot>;

function allRatesNull(s: Snapshot): void {
  for (const f of RATE_FIELDS) expect(s[f], f).toBeNull();
  expect(s.queries).toEqual([]);
}

describe("derive: the first sample and unusable windows", () => {
  it("the first sample has no rates (null, not 0) but has its connection gauges", () => {
    const s = derive(null, sample({ activity: { active: 3, idle: 4, idle_in_transaction: 1, idle_in_transaction_aborted: 1, waiting_on_locks: 2, total: 9 } }));
    allRatesNull(s);
    expect(s.window_issue).toBe("first_sample");
    expect(s.previous_sample_id).toBeNull();
    expect(s).toMatchObject({ active_connections: 3, idle_connections: 4, idle_in_transaction: 2, waiting_connections: 2, total_connections: 9 });
    expect(() => SnapshotSchema.parse(s)).not.toThrow();
  });

  it("a previous sample that is not older gives no rates", () => {
    const later = sample({ at: T0 + 60_000 });
    const earlier = sample({ at: T0, database: { xact_commit: 5 } });
    const s = derive(later, earlier);
    expect(s.window_issue).toBe("not_after_previous");
    expect(s.window_seconds).toBeNull();
    allRatesNull(s);
  });

  it("windows shorter than a second or longer than 6 h give no rates", () => {
    expect(derive(sample({ at: T0 }), sample({ at: T0 + 200 })).window_issue).toBe("too_short");
    const s = derive(sample({ at: T0 }), sample({ at: T0 + 7 * 3600_000 }));
    expect(s.window_issue).toBe("too_long");
    allRatesNull(s);
  });
});

describe("derive: rates over the window", () => {
  const prev = sample({
    at: T0,
    database: { xact_commit: 1_000, xact_rollback: 10, blks_hit: 10_000, blks_read: 100, temp_bytes: 0, deadlocks: 1, active_time: 5_000, idle_in_transaction_time: 1_000 },
    checkpoints: { timed: 3, requested: 1 },
    walLsnBytes: 1_000_000,
  });
  const cur = sample({
    at: T0 + 10_000,
    database: { xact_commit: 41_000, xact_rollback: 1_010, blks_hit: 19_000, blks_read: 1_100, temp_bytes: 5_000_000, deadlocks: 3, active_time: 25_000, idle_in_transaction_time: 5_200 },
    checkpoints: { timed: 4, requested: 3 },
    walLsnBytes: 21_000_000,
  });

  it("tps = Δ(xact_commit + xact_rollback) / Δt, buffer hit ratio and temp over the window, counts of deadlocks and checkpoints", () => {
    const s = derive(prev, cur);
    expect(s.window_seconds).toBe(10);
    expect(s.tps).toBeCloseTo(4_100, 9);
    expect(s.buffer_hit_ratio).toBeCloseTo(9_000 / 10_000, 12); // not 19_000 / 20_100 since start
    expect(s.temp_bytes_per_sec).toBeCloseTo(500_000, 6);
    expect(s.wal_bytes_per_sec).toBeCloseTo(2_000_000, 6);
    expect(s.deadlocks).toBe(2);
    expect(s.checkpoints_timed).toBe(1);
    expect(s.checkpoints_req).toBe(2);
    expect(s.reset_detected).toBe(false);
    expect(s.previous_sample_id).toBe(prev.sample_id);
    // Session time per transaction: (20_000 + 4_200) ms / 41_000 transactions.
    expect(s.latency_mean).toBeCloseTo(24_200 / 41_000, 9);
    expect(s.latency_basis).toBe("transaction");
    expect(() => MetricsItemSchema.parse(s)).not.toThrow();
  });

  it("falls back to pg_stat_wal bytes when the WAL position is unknown (standby)", () => {
    const s = derive(
      sample({ at: T0, walLsnBytes: null, wal: { wal_records: 1, wal_fpi: 0, wal_bytes: 1_000, wal_buffers_full: 0, stats_reset: null } }),
      sample({ at: T0 + 4_000, walLsnBytes: null, wal: { wal_records: 9, wal_fpi: 0, wal_bytes: 9_000, wal_buffers_full: 0, stats_reset: null } }),
    );
    expect(s.wal_bytes_per_sec).toBe(2_000);
  });

  it("per-query rows carry window calls, mean and stddev matching the executions in the window", () => {
    const a = new EntryAccumulator();
    const b = new EntryAccumulator();
    for (let i = 0; i < 500; i++) a.add(0.1 + (i % 7) * 0.01);
    for (let i = 0; i < 20; i++) b.add(5 + (i % 3));
    const entry = (id: string, acc: EntryAccumulator, extra: Partial<StatementEntry> = {}) =>
      statement(id, { calls: acc.calls, total_exec_time_ms: acc.total, stddev_exec_time_ms: acc.stddev, ...extra });
    const p = sample({ at: T0, top: [entry("1", a, { rows: 500, shared_blks_hit: 1_000 }), entry("2", b, { rows: 0 })] });
    const windowA: number[] = [];
    for (let i = 0; i < 300; i++) {
      const x = 0.3 + (i % 11) * 0.05;
      windowA.push(x);
      a.add(x);
    }
    const c = sample({ at: T0 + 10_000, top: [entry("1", a, { rows: 800, shared_blks_hit: 1_600, shared_blks_read: 4 }), entry("2", b, { rows: 0 })] });
    const s = derive(p, c);
    expect(s.queries).toHaveLength(1); // query 2 ran no calls in the window
    const q = s.queries[0]!;
    const direct = populationStats(windowA);
    expect(q.queryid).toBe("1");
    expect(q.calls).toBe(300);
    expect(q.mean_exec_time_ms).toBeCloseTo(direct.mean, 9);
    expect(q.stddev_exec_time_ms).toBeCloseTo(direct.sd, 7);
    expect(q.rows_per_call).toBe(1);
    expect(q.shared_blks_hit).toBe(600);
    expect(q.shared_blks_read).toBe(4);
    expect(q.reset).toBe(false);
    expect(s.qps).toBeCloseTo(30, 9);
    expect(s.qps_basis).toBe("all_entries");
    expect(s.statement_latency_mean).toBeCloseTo(direct.mean, 9);
    expect(s.statement_latency_p50).toBeGreaterThan(0.3);
    expect(s.statement_latency_p99).toBeLessThan(1.1); // lognormal tail past the uniform's 0.8 ms edge
  });

  it("merges entries of the same queryid (two roles) into one row", () => {
    const p = sample({ at: T0, top: [statement("9", { userid: 10, calls: 10, total_exec_time_ms: 10 }), statement("9", { userid: 11, calls: 5, total_exec_time_ms: 50 })] });
    const c = sample({ at: T0 + 5_000, top: [statement("9", { userid: 10, calls: 20, total_exec_time_ms: 20 }), statement("9", { userid: 11, calls: 15, total_exec_time_ms: 150 })] });
    const [q] = derive(p, c).queries;
    expect(q).toMatchObject({ queryid: "9", calls: 20, total_exec_time_ms: 110 });
    expect(q!.mean_exec_time_ms).toBeCloseTo(5.5, 12);
    expect(q!.stddev_exec_time_ms).toBeCloseTo(4.5, 12); // 10 calls at 1 ms, 10 at 10 ms
  });
});

describe("derive: the session-time bound on client-observed latency", () => {
  /**
   * N closed-loop clients without think time, connected the whole window: each one's window is
   * back-to-back transactions, each seen by its client as (server-visible part + the wire and
   * client CPU the server cannot see). So Σ session time = Σ client latencies, and the bound is
   * the client-side mean, while latency_mean (server-visible time) stays below it.
   */
  it("equals the client-side mean for closed-loop clients without think time; latency_mean stays below it", () => {
    const clients = 8;
    const seconds = 10;
    const serverVisibleMs = 0.3;
    const invisibleMs = 1.7; // network, client CPU, waiting for a CPU to read the answer
    const clientMs = serverVisibleMs + invisibleMs;
    const transactions = (clients * seconds * 1000) / clientMs;
    const base = { session_time: 1_000_000, active_time: 100_000, idle_in_transaction_time: 0 };
    const prev = sample({ at: T0, database: { ...base, xact_commit: 1_000 } });
    const cur = sample({
      at: T0 + seconds * 1000,
      database: {
        xact_commit: 1_000 + transactions,
        session_time: base.session_time + clients * seconds * 1000,
        active_time: base.active_time + transactions * serverVisibleMs,
        idle_in_transaction_time: 0,
      },
    });
    const s = derive(prev, cur);
    expect(s.client_latency_mean_upper_bound).toBeCloseTo(clientMs, 9);
    expect(s.connected_sessions_mean).toBeCloseTo(clients, 9);
    expect(s.latency_mean).toBeCloseTo(serverVisibleMs, 9);
    expect(s.latency_mean!).toBeLessThanOrEqual(s.client_latency_mean_upper_bound!);
  });

  it("idle sessions loosen it (think time, pools): still an upper bound, no longer the mean", () => {
    const prev = sample({ at: T0, database: { xact_commit: 0, session_time: 0, active_time: 0, idle_in_transaction_time: 0 } });
    // 2 busy clients doing 1 ms transactions + 18 idle pooled connections, 10 s.
    const cur = sample({ at: T0 + 10_000, database: { xact_commit: 20_000, session_time: 20 * 10_000, active_time: 20_000, idle_in_transaction_time: 0 } });
    const s = derive(prev, cur);
    expect(s.client_latency_mean_upper_bound).toBeCloseTo(10, 9); // true mean 1 ms: ≥, loose by the idle sessions
    expect(s.connected_sessions_mean).toBeCloseTo(20, 9);
  });

  it("is null before PostgreSQL 14 (no session_time), across a stats reset, and without transactions", () => {
    const pg13 = { session_time: null, active_time: null, idle_in_transaction_time: null };
    expect(derive(sample({ at: T0, database: pg13 }), sample({ at: T0 + 10_000, database: { ...pg13, xact_commit: 5_000 } })).client_latency_mean_upper_bound).toBeNull();
    const reset = derive(sample({ at: T0, database: { session_time: 9e6 } }), sample({ at: T0 + 10_000, database: { session_time: 10, stats_reset: "2026-03-01T12:00:05.000Z" } }));
    expect(reset.client_latency_mean_upper_bound).toBeNull();
    expect(reset.connected_sessions_mean).toBeNull();
    const quiet = derive(sample({ at: T0 }), sample({ at: T0 + 10_000, database: { session_time: 200_000 } }));
    expect(quiet.client_latency_mean_upper_bound).toBeNull(); // no transactions: nothing to divide
    expect(quiet.connected_sessions_mean).toBeCloseTo(10, 9);
  });

  it("old stored snapshots without these fields still parse (null)", () => {
    const { client_latency_mean_upper_bound: _a, connected_sessions_mean: _b, ...old } = derive(sample({ at: T0 }), sample({ at: T0 + 10_000 }));
    const parsed = MetricsItemSchema.parse(old);
    expect(parsed.client_latency_mean_upper_bound).toBeNull();
    expect(parsed.connected_sessions_mean).toBeNull();
  });
});

describe("derive: counter resets never give negative or absurd rates", () => {
  const busy = (at: number, over: Parameters<typeof sample>[0] = {}) =>
    sample({ at, database: { xact_commit: 50_000 + at / 10, blks_hit: 900_000, blks_read: 5_000 }, ...over });

  it.each([
    ["server_restarted", { server: { postmaster_start_time: "2026-03-01T12:00:05.000Z" } }],
    ["different_cluster", { server: { system_identifier: "7350000000000000999" } }],
    ["recovery_state_changed", { server: { in_recovery: true } }],
    ["timeline_changed", { server: { timeline_id: 2 } }],
    ["different_database", { server: { database: "other", database_oid: 5 } }],
  ] as const)("%s: no rates at all", (reason, over) => {
    const s = derive(busy(T0), sample({ at: T0 + 10_000, database: { xact_commit: 3 }, ...over }));
    expect(s.reset_detected).toBe(true);
    expect(s.reset_reasons).toContain(reason);
    allRatesNull(s);
  });

  it("pg_stat_reset (stats_reset moved): database rates null, other sources still derived", () => {
    const s = derive(busy(T0), sample({ at: T0 + 10_000, database: { xact_commit: 12, blks_hit: 40, stats_reset: "2026-03-01T12:00:03.000Z" }, walLsnBytes: 2_000_000 }));
    expect(s.reset_reasons).toEqual(["database_stats_reset"]);
    expect(s.tps).toBeNull();
    expect(s.buffer_hit_ratio).toBeNull();
    expect(s.latency_mean).toBeNull();
    expect(s.wal_bytes_per_sec).toBe(100_000);
    expect(s.checkpoints_timed).toBe(0);
  });

  it("a counter that went backwards without a reset time (crash) is a reset too", () => {
    const s = derive(busy(T0), sample({ at: T0 + 10_000, database: { xact_commit: 7 } }));
    expect(s.reset_reasons).toContain("database_stats_reset");
    expect(s.tps).toBeNull();
  });

  it("pg_stat_reset_shared('bgwriter') and ('wal'): those rates null", () => {
    const s = derive(
      sample({ at: T0, walLsnBytes: null }),
      sample({ at: T0 + 10_000, walLsnBytes: null, checkpoints: { timed: 0, stats_reset: "2026-03-01T12:00:01.000Z" }, wal: { wal_records: 0, wal_fpi: 0, wal_bytes: 10, wal_buffers_full: 0, stats_reset: "2026-03-01T12:00:01.000Z" } }),
    );
    expect(s.reset_reasons).toEqual(["checkpointer_stats_reset", "wal_stats_reset"]);
    expect(s.checkpoints_timed).toBeNull();
    expect(s.wal_bytes_per_sec).toBeNull();
    expect(s.tps).not.toBeNull();
  });

  it("pg_stat_statements_reset(): qps and latency null, query rows flagged reset with what they counted since", () => {
    const p = sample({ at: T0, top: [statement("1", { calls: 1_000, total_exec_time_ms: 100 })], info: { dealloc: 0, stats_reset: "2026-03-01T08:00:00.000Z" } });
    const c = sample({ at: T0 + 10_000, top: [statement("1", { calls: 40, total_exec_time_ms: 4 })], info: { dealloc: 0, stats_reset: "2026-03-01T12:00:06.000Z" } });
    const s = derive(p, c);
    expect(s.reset_reasons).toEqual(["statements_reset"]);
    expect(s.qps).toBeNull();
    expect(s.latency_p99).toBeNull();
    expect(s.queries).toEqual([expect.objectContaining({ queryid: "1", calls: 40, reset: true })]);
    expect(s.tps).not.toBeNull();
  });

  it("PostgreSQL 13 (no pg_stat_statements_info): total calls going down means a full reset", () => {
    const p = sample({ at: T0, info: null, top: [statement("1", { calls: 1_000, total_exec_time_ms: 100 })] });
    const c = sample({ at: T0 + 10_000, info: null, top: [statement("1", { calls: 10, total_exec_time_ms: 1 })] });
    expect(derive(p, c).reset_reasons).toEqual(["statements_reset"]);
  });

  it("one entry evicted and re-created: its row is flagged and counts only since, qps from the top entries", () => {
    const p = sample({ at: T0, top: [statement("1", { calls: 1_000, total_exec_time_ms: 100 }), statement("2", { calls: 100, total_exec_time_ms: 10 })], info: { dealloc: 3, stats_reset: null } });
    const c = sample({
      at: T0 + 10_000,
      top: [statement("1", { calls: 30, total_exec_time_ms: 3 }), statement("2", { calls: 200, total_exec_time_ms: 20 })],
      info: { dealloc: 5, stats_reset: null },
    });
    const s = derive(p, c);
    expect(s.reset_detected).toBe(false);
    expect(s.statements_evicted).toBe(2);
    expect(s.queries_reset).toBe(1);
    expect(s.qps_basis).toBe("top_entries");
    expect(s.qps).toBeCloseTo((30 + 100) / 10, 9);
    expect(s.queries.find((q) => q.queryid === "1")).toMatchObject({ calls: 30, reset: true });
    expect(s.queries.find((q) => q.queryid === "2")).toMatchObject({ calls: 100, reset: false });
  });

  it("PostgreSQL 17: a moved stats_since marks an entry re-created even if its calls grew", () => {
    const p = sample({ at: T0, top: [statement("1", { calls: 10, total_exec_time_ms: 10, stats_since: "2026-03-01T10:00:00.000Z" })] });
    const c = sample({ at: T0 + 10_000, top: [statement("1", { calls: 15, total_exec_time_ms: 15, stats_since: "2026-03-01T12:00:04.000Z" })] });
    expect(derive(p, c).queries[0]).toMatchObject({ calls: 15, reset: true });
  });

  it("an entry first seen now is left out when its calls may predate the window, kept when they cannot", () => {
    const old = statement("1", { calls: 10, total_exec_time_ms: 10 });
    const truncated = sample({ at: T0, top: [old], totals: { calls: 500, total_exec_time_ms: 600, entries: 40 } });
    const complete = sample({ at: T0, top: [old] });
    const cur = sample({ at: T0 + 10_000, top: [old, statement("77", { calls: 9_999_999, total_exec_time_ms: 1e6 })], totals: { calls: 10_000_600, total_exec_time_ms: 1e6, entries: 41 } });
    const s = derive(truncated, cur);
    expect(s.queries_without_baseline).toBe(1);
    expect(s.queries.map((q) => q.queryid)).not.toContain("77");
    const ok = derive(complete, cur);
    expect(ok.queries.map((q) => q.queryid)).toContain("77");
    const pg17 = sample({ at: T0 + 10_000, top: [old, statement("77", { calls: 5, total_exec_time_ms: 5, stats_since: "2026-03-01T12:00:02.000Z" })] });
    expect(derive(truncated, pg17).queries.map((q) => q.queryid)).toContain("77");
  });

  it("pg_stat_statements missing: the rest is derived and the snapshot says how to enable it", () => {
    const missing = {
      available: false as const,
      reason: "not_preloaded" as const,
      message: "pg_stat_statements is not in shared_preload_libraries",
      instruction: PG_STAT_STATEMENTS_INSTRUCTION,
    };
    const s = derive(sample({ at: T0, statements: missing }), sample({ at: T0 + 10_000, database: { xact_commit: 2_000 }, statements: missing }));
    expect(s.tps).toBeCloseTo(100, 9);
    expect(s.qps).toBeNull();
    expect(s.latency_p50).toBeNull();
    expect(s.latency_mean).not.toBeNull();
    expect(s.pg_stat_statements).toEqual({ available: false, reason: "not_preloaded", message: missing.message, instruction: PG_STAT_STATEMENTS_INSTRUCTION });
  });
});

// ---- property tests -------------------------------------------------------------------------

const count = fc.integer({ min: 0, max: 2 ** 40 });
const smallCount = fc.integer({ min: 0, max: 1_000_000 });
const ms = fc.double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true });
const resetTime = fc.constantFrom(null, "2026-03-01T08:00:00.000Z", "2026-03-01T12:00:00.000Z");

const entryArb = fc
  .record({
    queryid: fc.constantFrom("1", "2", "3", "-4", "5"),
    userid: fc.constantFrom(10, 11),
    toplevel: fc.constantFrom(true, false, null),
    calls: smallCount,
    mean: fc.double({ min: 0, max: 1e4, noNaN: true, noDefaultInfinity: true }),
    sd: fc.double({ min: 0, max: 1e4, noNaN: true, noDefaultInfinity: true }),
    rows: smallCount,
    hit: smallCount,
    read: smallCount,
    tr: smallCount,
    tw: smallCount,
    since: resetTime,
  })
  .map((e) =>
    statement(e.queryid, {
      userid: e.userid,
      toplevel: e.toplevel,
      calls: e.calls,
      total_exec_time_ms: e.calls * e.mean,
      stddev_exec_time_ms: e.calls > 1 ? e.sd : 0,
      rows: e.rows,
      shared_blks_hit: e.hit,
      shared_blks_read: e.read,
      temp_blks_read: e.tr,
      temp_blks_written: e.tw,
      stats_since: e.since,
    }),
  );

/** Any sample at all: counters, identities, reset times and statement entries drawn freely. */
const sampleArb: fc.Arbitrary<RawSample> = fc
  .record({
    at: fc.integer({ min: T0 - 20_000, max: T0 + 40_000 }),
    startTime: fc.constantFrom("2026-03-01T08:00:00.000Z", "2026-03-01T11:59:00.000Z"),
    sysid: fc.constantFrom("1", "2", null),
    recovery: fc.boolean(),
    db: fc.record({ xact_commit: count, xact_rollback: count, blks_read: count, blks_hit: count, temp_bytes: count, deadlocks: smallCount, active_time: fc.option(ms), idle: fc.option(ms), reset: resetTime }),
    cp: fc.record({ timed: smallCount, requested: smallCount, reset: resetTime }),
    lsn: fc.option(count),
    walBytes: count,
    walReset: resetTime,
    available: fc.boolean(),
    top: fc.array(entryArb, { maxLength: 6 }),
    info: fc.option(fc.record({ dealloc: smallCount, stats_reset: resetTime })),
    totals: fc.record({ calls: count, total_exec_time_ms: ms, entries: fc.integer({ min: 0, max: 10 }) }),
  })
  .map((r) =>
    sample({
      at: r.at,
      server: { postmaster_start_time: r.startTime, system_identifier: r.sysid, in_recovery: r.recovery },
      database: {
        xact_commit: r.db.xact_commit,
        xact_rollback: r.db.xact_rollback,
        blks_read: r.db.blks_read,
        blks_hit: r.db.blks_hit,
        temp_bytes: r.db.temp_bytes,
        deadlocks: r.db.deadlocks,
        active_time: r.db.active_time,
        idle_in_transaction_time: r.db.idle,
        stats_reset: r.db.reset,
      },
      checkpoints: { timed: r.cp.timed, requested: r.cp.requested, stats_reset: r.cp.reset },
      walLsnBytes: r.lsn,
      wal: { wal_records: 0, wal_fpi: 0, wal_bytes: r.walBytes, wal_buffers_full: 0, stats_reset: r.walReset },
      statements: r.available
        ? { available: true, extension_version: "1.10", info: r.info, totals: r.totals, top: r.top }
        : { available: false, reason: "extension_missing", message: "missing", instruction: PG_STAT_STATEMENTS_INSTRUCTION },
    }),
  );

function expectSane(s: Snapshot): void {
  for (const f of RATE_FIELDS) {
    const v = s[f];
    if (v !== null) {
      expect(Number.isFinite(v), `${f} = ${v}`).toBe(true);
      expect(v, f).toBeGreaterThanOrEqual(0);
    }
  }
  if (s.buffer_hit_ratio !== null) expect(s.buffer_hit_ratio).toBeLessThanOrEqual(1);
  for (const q of s.queries) {
    for (const v of [q.calls, q.total_exec_time_ms, q.mean_exec_time_ms, q.stddev_exec_time_ms, q.rows_per_call, q.shared_blks_hit, q.shared_blks_read, q.temp_blks_read, q.temp_blks_written]) {
      if (v !== null) expect(Number.isFinite(v) && v >= 0, `query ${q.queryid}: ${v}`).toBe(true);
    }
  }
  expect(SnapshotSchema.safeParse(s).success).toBe(true);
}

describe("derive: properties", () => {
  it("no pair of samples, in either order, gives a negative, infinite or NaN rate", () => {
    fc.assert(
      fc.property(sampleArb, sampleArb, (a, b) => {
        RawSampleSchema.parse(a);
        expectSane(derive(a, b));
        expectSane(derive(b, a));
      }),
      { numRuns: 400 },
    );
  });

  it("without resets, tps is exactly the counter increase over the elapsed time", () => {
    fc.assert(
      fc.property(sampleArb, fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1_000, max: 3_600_000 }), (a, extra, elapsedMs) => {
        const b: RawSample = {
          ...a,
          sample_id: `${a.sample_id}-next`,
          collected_at: new Date(Date.parse(a.collected_at) + elapsedMs).toISOString(),
          database: { ...a.database, xact_commit: a.database.xact_commit + extra },
        };
        const s = derive(a, b);
        expect(s.reset_detected).toBe(false);
        expect(s.tps).toBeCloseTo(extra / (elapsedMs / 1000), 6);
      }),
      { numRuns: 200 },
    );
  });
});
