/**
 * derive(previous, current) → snapshot: rates over the window between two raw samples.
 *
 * The rules that keep rates honest:
 * - no previous sample → no rates (null), never zeros;
 * - a window that is not positive, shorter than MIN_WINDOW_SECONDS or longer than
 *   MAX_WINDOW_SECONDS → no rates;
 * - a different server behind the same target (restart, switchover, another cluster or
 *   database: the identity in the sample changed) → no rates at all;
 * - a stats reset or a counter that went backwards in one source (pg_stat_database, the
 *   checkpointer, pg_stat_wal, pg_stat_statements) → that source's rates are null and the
 *   reason is listed; the other sources still give theirs;
 * - a single pg_stat_statements entry that restarted (calls went down, stats_since moved, or a
 *   full pg_stat_statements_reset) contributes only what it counted since, flagged `reset`;
 *   an entry seen for the first time whose calls may predate the window is left out.
 * So no pair of samples, in any order, can produce a negative rate.
 *
 * @example
 *   const snap = derive(previousSample, currentSample);
 *   snap.tps; // 4123.5, or null for the first sample or across a reset
 */
import { buildMixture, mixtureQuantile } from "./distribution";
import { fromCumulative, meanOf, mergeMoments, stddevOf, windowBetween, type WindowMoments } from "./moments";
import type { RawSample, StatementEntry, StatementsAvailable } from "./sample";
import type { QueryWindow, ResetReason, Snapshot, WindowIssue } from "./snapshot";
import { estimateTransactionLatency } from "./transaction-latency";

/** Below this a rate is mostly noise (and a duplicate collect would divide by ~0). */
export const MIN_WINDOW_SECONDS = 1;
/** Above this the "rate" would average over a gap (the target or its agent was away). */
export const MAX_WINDOW_SECONDS = 6 * 3600;

export interface DeriveOptions {
  minWindowSeconds?: number;
  maxWindowSeconds?: number;
}

export function derive(previous: RawSample | null | undefined, current: RawSample, opts: DeriveOptions = {}): Snapshot {
  const base = gauges(current);
  if (!previous) return { ...base, window_issue: "first_sample" };
  const seconds = (Date.parse(current.collected_at) - Date.parse(previous.collected_at)) / 1000;
  const withPrevious = { ...base, previous_sample_id: previous.sample_id, window_seconds: seconds > 0 ? seconds : null };
  const issue = windowIssue(seconds, opts);
  if (issue) return { ...withPrevious, window_issue: issue };

  const identity = identityResets(previous, current);
  if (identity.length > 0) return { ...withPrevious, reset_detected: true, reset_reasons: identity };

  const reasons: ResetReason[] = [];
  const db = databaseWindow(previous, current);
  if (!db) reasons.push("database_stats_reset");
  const checkpoints = checkpointWindow(previous, current);
  if (!checkpoints) reasons.push("checkpointer_stats_reset");
  const walBytes = walWindow(previous, current);
  if (walBytes === "reset") reasons.push("wal_stats_reset");
  const statements = statementsWindow(previous, current);
  if (statements?.fullReset) reasons.push("statements_reset");

  const tps = db ? db.transactions / seconds : null;
  const qpsCalls = statements && !statements.fullReset ? statements.calls : null;
  const statementStats = statements ? statementLatency(statements.entries) : undefined;
  const meanTransactionMs = db && db.transactions > 0 && db.sessionBusyMs !== null ? db.sessionBusyMs / db.transactions : null;
  const perTransaction = db && db.transactions > 0 && qpsCalls !== null ? qpsCalls / db.transactions : null;
  const latency =
    db && db.transactions > 0 && statements && !statements.fullReset
      ? estimateTransactionLatency({ mixture: statementStats?.mixture, statementsPerTransaction: perTransaction, meanTransactionMs })
      : null;

  return {
    ...withPrevious,
    window_issue: null,
    tps,
    qps: qpsCalls !== null ? qpsCalls / seconds : null,
    qps_basis: qpsCalls !== null ? statements!.basis : null,
    latency_mean: latency?.mean ?? meanTransactionMs,
    latency_p50: latency?.p50 ?? null,
    latency_p95: latency?.p95 ?? null,
    latency_p99: latency?.p99 ?? null,
    latency_basis: latency?.basis ?? (meanTransactionMs !== null ? "transaction" : null),
    statement_latency_mean: statementStats?.mean ?? null,
    statement_latency_p50: statementStats?.p50 ?? null,
    statement_latency_p95: statementStats?.p95 ?? null,
    statement_latency_p99: statementStats?.p99 ?? null,
    statements_per_transaction: perTransaction,
    client_latency_mean_upper_bound: db && db.transactions > 0 && db.sessionMs !== null ? db.sessionMs / db.transactions : null,
    connected_sessions_mean: db && db.sessionMs !== null ? db.sessionMs / 1000 / seconds : null,
    buffer_hit_ratio: db && db.blocks > 0 ? db.hits / db.blocks : null,
    temp_bytes_per_sec: db ? db.tempBytes / seconds : null,
    wal_bytes_per_sec: typeof walBytes === "number" ? walBytes / seconds : null,
    deadlocks: db ? db.deadlocks : null,
    checkpoints_timed: checkpoints ? checkpoints.timed : null,
    checkpoints_req: checkpoints ? checkpoints.requested : null,
    reset_detected: reasons.length > 0,
    reset_reasons: reasons,
    statements_evicted: statements?.evicted ?? null,
    queries_reset: statements?.queriesReset ?? 0,
    queries_without_baseline: statements?.withoutBaseline ?? 0,
    queries: statements ? queryRows(statements.entries) : [],
  };
}

/** The snapshot of a sample on its own: gauges only, every rate null. */
function gauges(current: RawSample): Snapshot {
  const a = current.activity;
  const st = current.statements;
  return {
    target: current.target,
    sample_id: current.sample_id,
    previous_sample_id: null,
    snapshot_time: current.collected_at,
    window_seconds: null,
    window_issue: null,
    tps: null,
    qps: null,
    qps_basis: null,
    latency_mean: null,
    latency_p50: null,
    latency_p95: null,
    latency_p99: null,
    latency_basis: null,
    statement_latency_mean: null,
    statement_latency_p50: null,
    statement_latency_p95: null,
    statement_latency_p99: null,
    statements_per_transaction: null,
    client_latency_mean_upper_bound: null,
    connected_sessions_mean: null,
    buffer_hit_ratio: null,
    temp_bytes_per_sec: null,
    wal_bytes_per_sec: null,
    deadlocks: null,
    checkpoints_timed: null,
    checkpoints_req: null,
    active_connections: a.active,
    idle_connections: a.idle,
    idle_in_transaction: a.idle_in_transaction + a.idle_in_transaction_aborted,
    waiting_connections: a.waiting_on_locks,
    total_connections: a.total,
    reset_detected: false,
    reset_reasons: [],
    statements_evicted: null,
    queries_reset: 0,
    queries_without_baseline: 0,
    pg_stat_statements: st.available
      ? { available: true }
      : { available: false, reason: st.reason, message: st.message, instruction: st.instruction },
    server_major: current.server.major,
    queries: [],
  };
}

function windowIssue(seconds: number, opts: DeriveOptions): WindowIssue | null {
  if (!(seconds > 0)) return "not_after_previous";
  if (seconds < (opts.minWindowSeconds ?? MIN_WINDOW_SECONDS)) return "too_short";
  if (seconds > (opts.maxWindowSeconds ?? MAX_WINDOW_SECONDS)) return "too_long";
  return null;
}

/** A different server or database answered: nothing cumulative carries over. */
function identityResets(p: RawSample, c: RawSample): ResetReason[] {
  const out: ResetReason[] = [];
  const a = p.server;
  const b = c.server;
  if (a.system_identifier !== null && b.system_identifier !== null && a.system_identifier !== b.system_identifier) {
    out.push("different_cluster");
  }
  if (Date.parse(a.postmaster_start_time) !== Date.parse(b.postmaster_start_time)) out.push("server_restarted");
  if (a.timeline_id !== null && b.timeline_id !== null && a.timeline_id !== b.timeline_id) out.push("timeline_changed");
  if (a.in_recovery !== b.in_recovery) out.push("recovery_state_changed");
  if (a.database_oid !== b.database_oid || a.database !== b.database) out.push("different_database");
  return out;
}

function sameTime(a: string | null, b: string | null): boolean {
  return a === b || (a !== null && b !== null && Date.parse(a) === Date.parse(b));
}

/** Deltas of named counters; undefined when any went backwards. */
function deltas<T extends Record<string, unknown>, K extends keyof T & string>(p: T, c: T, keys: readonly K[]): Record<K, number> | undefined {
  const out = {} as Record<K, number>;
  for (const k of keys) {
    const d = (c[k] as number) - (p[k] as number);
    if (!(d >= 0)) return undefined;
    out[k] = d;
  }
  return out;
}

const DATABASE_COUNTERS = ["xact_commit", "xact_rollback", "blks_read", "blks_hit", "temp_bytes", "deadlocks"] as const;

interface DatabaseWindow {
  transactions: number;
  hits: number;
  blocks: number;
  tempBytes: number;
  deadlocks: number;
  /** Δ(active_time + idle_in_transaction_time), ms; null before PostgreSQL 14. */
  sessionBusyMs: number | null;
  /** Δsession_time (connected, whatever the state), ms; null before PostgreSQL 14. */
  sessionMs: number | null;
}

function databaseWindow(p: RawSample, c: RawSample): DatabaseWindow | undefined {
  if (!sameTime(p.database.stats_reset, c.database.stats_reset)) return undefined;
  const d = deltas(p.database, c.database, DATABASE_COUNTERS);
  if (!d) return undefined;
  const busy = (s: RawSample["database"]) =>
    s.active_time !== null && s.idle_in_transaction_time !== null ? s.active_time + s.idle_in_transaction_time : null;
  const before = busy(p.database);
  const after = busy(c.database);
  const sessionBusyMs = before !== null && after !== null && after >= before ? after - before : null;
  const sessionBefore = p.database.session_time;
  const sessionAfter = c.database.session_time;
  const sessionMs = sessionBefore !== null && sessionAfter !== null && sessionAfter >= sessionBefore ? sessionAfter - sessionBefore : null;
  return {
    transactions: d.xact_commit + d.xact_rollback,
    hits: d.blks_hit,
    blocks: d.blks_hit + d.blks_read,
    tempBytes: d.temp_bytes,
    deadlocks: d.deadlocks,
    sessionBusyMs,
    sessionMs,
  };
}

function checkpointWindow(p: RawSample, c: RawSample): { timed: number; requested: number } | undefined {
  if (p.checkpoints.source !== c.checkpoints.source || !sameTime(p.checkpoints.stats_reset, c.checkpoints.stats_reset)) return undefined;
  return deltas(p.checkpoints, c.checkpoints, ["timed", "requested"] as const);
}

/** WAL bytes written in the window: from the WAL position when both samples have it, else pg_stat_wal. */
function walWindow(p: RawSample, c: RawSample): number | "reset" | null {
  if (p.wal_lsn_bytes !== null && c.wal_lsn_bytes !== null) {
    const d = c.wal_lsn_bytes - p.wal_lsn_bytes;
    return d >= 0 ? d : "reset";
  }
  if (!p.wal || !c.wal) return null;
  if (!sameTime(p.wal.stats_reset, c.wal.stats_reset)) return "reset";
  const d = c.wal.wal_bytes - p.wal.wal_bytes;
  return d >= 0 ? d : "reset";
}

/** One pg_stat_statements entry over the window. */
interface EntryWindow {
  entry: StatementEntry;
  moments: WindowMoments;
  rows: number;
  sharedBlksHit: number;
  sharedBlksRead: number;
  tempBlksRead: number;
  tempBlksWritten: number;
  reset: boolean;
}

interface StatementsWindow {
  /** pg_stat_statements_reset() (all entries) inside the window. */
  fullReset: boolean;
  /** Top-level calls in the window. */
  calls: number;
  basis: "all_entries" | "top_entries";
  entries: EntryWindow[];
  evicted: number | null;
  queriesReset: number;
  withoutBaseline: number;
}

const ENTRY_COUNTERS = ["calls", "total_exec_time_ms", "rows", "shared_blks_hit", "shared_blks_read", "temp_blks_read", "temp_blks_written"] as const;

function entryKey(e: StatementEntry): string {
  return `${e.queryid}/${e.userid}/${e.toplevel === false ? "nested" : "top"}`;
}

function statementsWindow(p: RawSample, c: RawSample): StatementsWindow | undefined {
  if (!p.statements.available || !c.statements.available) return undefined;
  const before: StatementsAvailable = p.statements;
  const after: StatementsAvailable = c.statements;
  const infoReset = before.info !== null && after.info !== null && !sameTime(before.info.stats_reset, after.info.stats_reset);
  const totalsWentBack = after.totals.calls < before.totals.calls;
  // Without pg_stat_statements_info (PG 13) a drop of the total calls is the only sign of a full reset.
  const fullReset = infoReset || (after.info === null && totalsWentBack);
  const evicted = before.info !== null && after.info !== null ? Math.max(0, after.info.dealloc - before.info.dealloc) : null;
  const previousComplete = before.top.length >= before.totals.entries;
  const prevByKey = new Map(before.top.map((e) => [entryKey(e), e]));
  const since = Date.parse(p.collected_at);

  const entries: EntryWindow[] = [];
  let withoutBaseline = 0;
  for (const e of after.top) {
    const prev = prevByKey.get(entryKey(e));
    let w: EntryWindow | undefined;
    if (fullReset) {
      w = sinceCreated(e, true);
    } else if (prev) {
      const recreated = prev.stats_since !== null && e.stats_since !== null && !sameTime(prev.stats_since, e.stats_since);
      w = recreated ? sinceCreated(e, true) : (between(prev, e) ?? sinceCreated(e, true));
    } else if ((e.stats_since !== null && Date.parse(e.stats_since) >= since) || previousComplete) {
      // New since the previous sample: every call it counted falls inside the window.
      w = sinceCreated(e, false);
    } else {
      withoutBaseline++;
    }
    if (w && w.moments.calls > 0) entries.push(w);
  }

  const topLevel = entries.filter((w) => w.entry.toplevel !== false);
  const topCalls = topLevel.reduce((sum, w) => sum + w.moments.calls, 0);
  const totalsDelta = after.totals.calls - before.totals.calls;
  const totalsUsable = !fullReset && !totalsWentBack && (evicted ?? 0) === 0;
  return {
    fullReset,
    calls: totalsUsable ? Math.max(totalsDelta, topCalls) : topCalls,
    basis: totalsUsable ? "all_entries" : "top_entries",
    entries,
    evicted,
    queriesReset: entries.filter((w) => w.reset).length,
    withoutBaseline,
  };
}

function between(p: StatementEntry, c: StatementEntry): EntryWindow | undefined {
  const d = deltas(p, c, ENTRY_COUNTERS);
  if (!d) return undefined;
  const moments = windowBetween(
    { calls: p.calls, totalMs: p.total_exec_time_ms, stddevMs: p.stddev_exec_time_ms },
    { calls: c.calls, totalMs: c.total_exec_time_ms, stddevMs: c.stddev_exec_time_ms },
  );
  if (!moments) return undefined;
  return {
    entry: c,
    moments,
    rows: d.rows,
    sharedBlksHit: d.shared_blks_hit,
    sharedBlksRead: d.shared_blks_read,
    tempBlksRead: d.temp_blks_read,
    tempBlksWritten: d.temp_blks_written,
    reset: false,
  };
}

/** Everything the entry counted: right when the entry (re)started inside the window. */
function sinceCreated(c: StatementEntry, reset: boolean): EntryWindow {
  return {
    entry: c,
    moments: fromCumulative({ calls: c.calls, totalMs: c.total_exec_time_ms, stddevMs: c.stddev_exec_time_ms }),
    rows: c.rows,
    sharedBlksHit: c.shared_blks_hit,
    sharedBlksRead: c.shared_blks_read,
    tempBlksRead: c.temp_blks_read,
    tempBlksWritten: c.temp_blks_written,
    reset,
  };
}

function statementLatency(entries: readonly EntryWindow[]) {
  const components = entries
    .filter((w) => w.entry.toplevel !== false)
    .map((w) => ({ calls: w.moments.calls, meanMs: meanOf(w.moments) ?? 0, stddevMs: stddevOf(w.moments) ?? 0 }));
  const mixture = buildMixture(components);
  if (!mixture) return undefined;
  return {
    mixture,
    mean: mixture.mean,
    p50: mixtureQuantile(mixture, 0.5),
    p95: mixtureQuantile(mixture, 0.95),
    p99: mixtureQuantile(mixture, 0.99),
  };
}

/** One row per queryid (entries of several roles, or nested and top level, merged). */
function queryRows(entries: readonly EntryWindow[]): QueryWindow[] {
  const byId = new Map<string, { rows: EntryWindow[] }>();
  for (const w of entries) {
    const group = byId.get(w.entry.queryid) ?? { rows: [] };
    group.rows.push(w);
    byId.set(w.entry.queryid, group);
  }
  const out: QueryWindow[] = [];
  for (const [queryid, { rows }] of byId) {
    const moments = rows.map((r) => r.moments).reduce(mergeMoments);
    const sum = (f: (r: EntryWindow) => number) => rows.reduce((s, r) => s + f(r), 0);
    const totalRows = sum((r) => r.rows);
    out.push({
      queryid,
      query: rows.find((r) => r.entry.query !== null)?.entry.query ?? null,
      calls: moments.calls,
      total_exec_time_ms: moments.sumMs,
      mean_exec_time_ms: meanOf(moments),
      stddev_exec_time_ms: stddevOf(moments),
      rows_per_call: moments.calls > 0 ? totalRows / moments.calls : null,
      shared_blks_hit: sum((r) => r.sharedBlksHit),
      shared_blks_read: sum((r) => r.sharedBlksRead),
      temp_blks_read: sum((r) => r.tempBlksRead),
      temp_blks_written: sum((r) => r.tempBlksWritten),
      reset: rows.some((r) => r.reset),
    });
  }
  return out.sort((a, b) => b.total_exec_time_ms - a.total_exec_time_ms);
}

