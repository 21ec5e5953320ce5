/**
 * A derived snapshot: what happened between two raw samples. Rates are per second over the
 * window; counts (deadlocks, checkpoints) are totals over the window; connections are the
 * current sample's gauges. A rate is null when it cannot be known (first sample, a counter
 * reset, no pg_stat_statements), never a made-up 0.
 *
 * `MetricsItemSchema` is the shape of one item of GET /api/metrics/history (the snapshot without
 * its per-query rows); the detection CLI reads exactly these items.
 */
import { z } from "zod";

const Rate = z.number().finite().nonnegative().nullable();
const Ms = z.number().finite().nonnegative().nullable();
const Gauge = z.number().int().nonnegative();

/** Why a window has no rates at all. */
export const WindowIssueSchema = z.enum([
  /** No previous sample (the first one, or its predecessor was pruned). */
  "first_sample",
  /** The previous sample is not older than this one. */
  "not_after_previous",
  /** Shorter than MIN_WINDOW_SECONDS: too little time for a meaningful rate. */
  "too_short",
  /** Longer than MAX_WINDOW_SECONDS: an average over such a gap would mislead. */
  "too_long",
]);

/** Counter resets that made some of the window's rates unknown. */
export const ResetReasonSchema = z.enum([
  "different_cluster",
  "server_restarted",
  "timeline_changed",
  "recovery_state_changed",
  "different_database",
  "database_stats_reset",
  "checkpointer_stats_reset",
  "wal_stats_reset",
  "statements_reset",
]);

export const QueryWindowSchema = z.object({
  queryid: z.string(),
  query: z.string().nullable(),
  calls: z.number().nonnegative(),
  total_exec_time_ms: z.number().nonnegative(),
  mean_exec_time_ms: Ms,
  stddev_exec_time_ms: Ms,
  rows_per_call: Rate,
  shared_blks_hit: z.number().nonnegative(),
  shared_blks_read: z.number().nonnegative(),
  temp_blks_read: z.number().nonnegative(),
  temp_blks_written: z.number().nonnegative(),
  /**
   * The entry's counters restarted inside this window (pg_stat_statements_reset, eviction and
   * re-entry): the numbers cover only the part of the window after that, so they undercount.
   */
  reset: z.boolean(),
});

export const MetricsItemSchema = z.object({
  target: z.string(),
  sample_id: z.string(),
  previous_sample_id: z.string().nullable(),
  snapshot_time: z.iso.datetime({ offset: true }),
  window_seconds: z.number().positive().nullable(),
  window_issue: WindowIssueSchema.nullable(),
  /** Transactions (commits + rollbacks) per second. */
  tps: Rate,
  /** Top-level statements per second (pg_stat_statements calls). */
  qps: Rate,
  /** Where qps came from: all entries' totals, or only the sampled top entries (after evictions). */
  qps_basis: z.enum(["all_entries", "top_entries"]).nullable(),
  /** Per-transaction latency (ms), server side: see transaction-latency.ts. */
  latency_mean: Ms,
  latency_p50: Ms,
  latency_p95: Ms,
  latency_p99: Ms,
  latency_basis: z.enum(["transaction", "statements_only"]).nullable(),
  /** Per-statement execution time (ms): the calls-weighted mixture of per-query lognormals. */
  statement_latency_mean: Ms,
  statement_latency_p50: Ms,
  statement_latency_p95: Ms,
  statement_latency_p99: Ms,
  statements_per_transaction: Rate,
  /**
   * An upper bound on the mean latency clients observe per transaction (ms), for reporting only:
   * Δsession_time / Δ(xact_commit + xact_rollback) (PostgreSQL 14+), the response-time law
   * R ≤ N / X with N the mean number of connected sessions. Equal to the client-side mean for
   * closed-loop clients without think time (pgbench); loose when sessions sit idle (pools, think
   * time). It is a bound on the mean only, says nothing about p95/p99, and moves with pool size and
   * client behaviour, so no decision uses it. See README.md "Known limits".
   */
  client_latency_mean_upper_bound: Ms.default(null),
  /** Time-average number of connected client sessions over the window: Δsession_time / Δt (PostgreSQL 14+). */
  connected_sessions_mean: Rate.default(null),
  /** blks_hit / (blks_hit + blks_read) over the window (not since server start). */
  buffer_hit_ratio: z.number().min(0).max(1).nullable(),
  temp_bytes_per_sec: Rate,
  wal_bytes_per_sec: Rate,
  /** Counts over the window. */
  deadlocks: Rate,
  checkpoints_timed: Rate,
  checkpoints_req: Rate,
  active_connections: Gauge,
  idle_connections: Gauge,
  idle_in_transaction: Gauge,
  waiting_connections: Gauge,
  total_connections: Gauge,
  reset_detected: z.boolean(),
  reset_reasons: z.array(ResetReasonSchema),
  /** pg_stat_statements entries evicted in the window (pg_stat_statements_info.dealloc delta). */
  statements_evicted: Rate,
  /** Entries whose counters restarted inside the window (their query rows carry reset: true). */
  queries_reset: Gauge,
  /** Entries seen for the first time with calls from before the window: left out, no baseline. */
  queries_without_baseline: Gauge,
  pg_stat_statements: z.object({
    available: z.boolean(),
    /** not_preloaded | extension_missing | query_failed, when unavailable. */
    reason: z.string().optional(),
    message: z.string().optional(),
    /** What the operator should do to enable it. */
    instruction: z.string().optional(),
  }),
  server_major: z.number().int(),
});

export const SnapshotSchema = MetricsItemSchema.extend({
  queries: z.array(QueryWindowSchema),
});

export type MetricsItem = z.output<typeof MetricsItemSchema>;
export type Snapshot = z.output<typeof SnapshotSchema>;
export type QueryWindow = z.output<typeof QueryWindowSchema>;
export type ResetReason = z.output<typeof ResetReasonSchema>;
export type WindowIssue = z.output<typeof WindowIssueSchema>;

/** The snapshot without its per-query rows (what system_snapshots.details and the API carry). */
export function metricsItemOf(snapshot: Snapshot): MetricsItem {
  const { queries: _queries, ...item } = snapshot;
  return item;
}
