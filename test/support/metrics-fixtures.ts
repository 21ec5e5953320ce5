/**
 * Raw samples for the pure tests: a plausible PostgreSQL 15 sample, and a tiny "server" that
 * accumulates counters the way PostgreSQL does, so windows can be checked against the
 * executions that actually happened.
 */
import type { RawSample, StatementEntry } from "../../src/core/metrics";

export const T0 = Date.parse("2026-03-01T12:00:00.000Z");

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function statement(queryid: string, over: Partial<StatementEntry> = {}): StatementEntry {
  return {
    queryid,
    userid: 10,
    toplevel: true,
    query: `select ${queryid}`,
    calls: 0,
    total_exec_time_ms: 0,
    stddev_exec_time_ms: 0,
    rows: 0,
    shared_blks_hit: 0,
    shared_blks_read: 0,
    temp_blks_read: 0,
    temp_blks_written: 0,
    stats_since: null,
    ...over,
  };
}

export interface SampleOverrides {
  sampleId?: string;
  at?: number;
  database?: Partial<RawSample["database"]>;
  server?: Partial<RawSample["server"]>;
  activity?: Partial<RawSample["activity"]>;
  checkpoints?: Partial<RawSample["checkpoints"]>;
  wal?: RawSample["wal"];
  walLsnBytes?: number | null;
  statements?: RawSample["statements"];
  top?: StatementEntry[];
  info?: { dealloc: number; stats_reset: string | null } | null;
  totals?: { calls: number; total_exec_time_ms: number; entries: number };
}

let counter = 0;

export function sample(o: SampleOverrides = {}): RawSample {
  const top = o.top ?? [];
  const totals = o.totals ?? {
    calls: top.filter((e) => e.toplevel !== false).reduce((s, e) => s + e.calls, 0),
    total_exec_time_ms: top.filter((e) => e.toplevel !== false).reduce((s, e) => s + e.total_exec_time_ms, 0),
    entries: top.length,
  };
  return {
    format: 1,
    sample_id: o.sampleId ?? `sample-${++counter}-${Math.random().toString(36).slice(2, 8)}`,
    target: "default",
    collected_at: iso(o.at ?? T0),
    server: {
      version_num: 150018,
      major: 15,
      system_identifier: "7350000000000000001",
      postmaster_start_time: "2026-03-01T08:00:00.000Z",
      timeline_id: 1,
      in_recovery: false,
      database: "app",
      database_oid: 16384,
      ...o.server,
    },
    database: {
      xact_commit: 1000,
      xact_rollback: 10,
      blks_read: 100,
      blks_hit: 10_000,
      tup_returned: 0,
      tup_fetched: 0,
      tup_inserted: 0,
      tup_updated: 0,
      tup_deleted: 0,
      temp_files: 0,
      temp_bytes: 0,
      deadlocks: 0,
      session_time: 100_000,
      active_time: 5_000,
      idle_in_transaction_time: 1_000,
      stats_reset: null,
      ...o.database,
    },
    activity: {
      active: 2,
      idle: 5,
      idle_in_transaction: 1,
      idle_in_transaction_aborted: 0,
      other: 0,
      waiting_on_locks: 0,
      total: 8,
      server_total: 9,
      oldest_transaction_seconds: 0.5,
      ...o.activity,
    },
    checkpoints: {
      source: "pg_stat_bgwriter",
      timed: 3,
      requested: 1,
      write_time_ms: 10,
      sync_time_ms: 2,
      buffers_written: 100,
      stats_reset: "2026-03-01T08:00:00.000Z",
      ...o.checkpoints,
    },
    bgwriter: { buffers_clean: 0, maxwritten_clean: 0, buffers_alloc: 100, buffers_backend: 0, stats_reset: "2026-03-01T08:00:00.000Z" },
    wal: o.wal === undefined ? { wal_records: 10, wal_fpi: 1, wal_bytes: 5_000, wal_buffers_full: 0, stats_reset: null } : o.wal,
    wal_lsn_bytes: o.walLsnBytes === undefined ? 1_000_000 : o.walLsnBytes,
    statements: o.statements ?? {
      available: true,
      extension_version: "1.10",
      info: o.info === undefined ? { dealloc: 0, stats_reset: "2026-03-01T08:00:00.000Z" } : o.info,
      totals,
      top,
    },
    settings: { shared_buffers: "128MB", work_mem: "4MB" },
  };
}

/** Cumulative pg_stat_statements state of one entry, built from the execution times it saw. */
export class EntryAccumulator {
  calls = 0;
  total = 0;
  /** Welford, as pg_stat_statements does it. */
  private mean = 0;
  private sumVar = 0;
  readonly times: number[] = [];

  add(x: number): void {
    this.times.push(x);
    this.calls++;
    this.total += x;
    const old = this.mean;
    this.mean += (x - old) / this.calls;
    this.sumVar += (x - old) * (x - this.mean);
  }

  /** Population stddev as pg_stat_statements reports it (0 for a single call). */
  get stddev(): number {
    return this.calls > 1 ? Math.sqrt(this.sumVar / this.calls) : 0;
  }

  snapshot() {
    return { calls: this.calls, totalMs: this.total, stddevMs: this.stddev };
  }
}

export function populationStats(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
  return { mean, sd: Math.sqrt(variance) };
}

/** Empirical quantile (nearest rank) of values. */
export function empiricalQuantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
