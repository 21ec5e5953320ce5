/**
 * The history detection reads for one target, with bounded row counts so an analysis fits a
 * Worker's CPU and memory however busy the target is:
 *
 *   system snapshots   the newest `maxSnapshots` within `historyMs` (CUSUM needs reference 60 +
 *                      monitor 120 points, E-Divisive the newest 200)
 *   per-query windows  for each loaded snapshot its `workloadQueriesPerWindow` heaviest statements
 *                      (by execution time: the workload class is computed from time shares), plus,
 *                      for the newest window's `regressionQueries` heaviest statements, their newest
 *                      `maxWindowsPerQuery` windows within `historyMs` (the 6 h regression baseline)
 *   seasonal history   15-minute bucket means over `seasonalBuckets` buckets, plus the raw snapshots
 *                      of the newest bucket: what Holt–Winters reads, without 4 320 one-minute rows
 *
 * Six hours of one-minute snapshots with 500 statements each is 360 + 180 000 rows unbounded;
 * bounded it is at most 360 + 360·50 + 50·360 rows (bench/analysis.ts measures both).
 *
 * @example
 *   const { input, meta } = await loadAnalysisHistory(db, "default", { nowMs: Date.now() });
 *   detect(input);
 */
import { and, desc, eq, gte, sql } from "drizzle-orm";
import { DEFAULT_DETECT_CONFIG } from "../core/detect/config";
import type { MetricName, QueryWindow, StatementsAvailability, SystemSnapshot } from "../core/detect/history";
import { statementsAvailabilitySchema } from "../core/detect/history";
import type { DetectionInput } from "../core/detect/input";
import type { HistoryMeta } from "../core/analysis/view";
import type { Db } from "./db";
import { systemSnapshots } from "./schema";

export interface AnalysisLimits {
  /** How far back snapshots and query windows are read (the seed's 6 h regression baseline). */
  historyMs: number;
  /** Newest snapshots read: ≥ CUSUM's reference + monitor (180) and E-Divisive's 200 points. */
  maxSnapshots: number;
  /** Heaviest statements per window that feed the workload class. */
  workloadQueriesPerWindow: number;
  /** Heaviest statements of the newest window that are checked for regressions. */
  regressionQueries: number;
  /** …each with at most this many of its newest windows as the baseline. */
  maxWindowsPerQuery: number;
  /** 15-minute buckets for the seasonal model: three daily seasons (Holt–Winters needs two). */
  seasonalBuckets: number;
}

export const DEFAULT_ANALYSIS_LIMITS: AnalysisLimits = {
  historyMs: 6 * 3600_000,
  maxSnapshots: 360,
  workloadQueriesPerWindow: 50,
  regressionQueries: 50,
  maxWindowsPerQuery: 360,
  seasonalBuckets: 3 * DEFAULT_DETECT_CONFIG.seasonal.seasonLength,
};

export interface LoadedHistory {
  input: DetectionInput;
  meta: HistoryMeta;
  /** Texts of the newest window's statements, by queryid. */
  queryText: Map<string, string>;
}

/** Snapshot columns detection reads, by the metric names it knows them by. */
const METRIC_COLUMNS = {
  tps: systemSnapshots.tps,
  qps: systemSnapshots.qps,
  latency_p50: systemSnapshots.latencyP50,
  latency_p95: systemSnapshots.latencyP95,
  latency_p99: systemSnapshots.latencyP99,
  latency_mean: systemSnapshots.latencyMean,
  buffer_hit_ratio: systemSnapshots.bufferHitRatio,
  temp_bytes_per_sec: systemSnapshots.tempBytesPerSec,
  wal_bytes_per_sec: systemSnapshots.walBytesPerSec,
  active_connections: systemSnapshots.activeConnections,
  total_connections: systemSnapshots.totalConnections,
} satisfies Record<MetricName, unknown>;

export interface LoadOptions {
  nowMs: number;
  limits?: AnalysisLimits;
  bucketMs?: number;
  seasonalMetrics?: readonly MetricName[];
}

export async function loadAnalysisHistory(db: Db, target: string, opts: LoadOptions): Promise<LoadedHistory> {
  const limits = opts.limits ?? DEFAULT_ANALYSIS_LIMITS;
  const bucketMs = opts.bucketMs ?? DEFAULT_DETECT_CONFIG.seasonal.bucketMs;
  const snapshots = await recentSnapshots(db, target, new Date(opts.nowMs - limits.historyMs), limits.maxSnapshots);
  const newest = snapshots.at(-1);
  const meta: HistoryMeta = {
    snapshots: snapshots.length,
    query_windows: 0,
    seasonal_points: 0,
    from: snapshots[0]?.snapshot.snapshot_time ?? null,
    to: newest?.snapshot.snapshot_time ?? null,
    limits: { ...limits },
  };
  if (!newest) return { input: { snapshots: [], queries: [], baseline_valid_from: undefined }, meta, queryText: new Map() };

  const { windows, queryText } = await queryWindows(db, target, snapshots, limits);
  const seasonal = await seasonalHistory(db, target, snapshots, bucketMs, limits.seasonalBuckets, opts.seasonalMetrics ?? DEFAULT_DETECT_CONFIG.seasonal.metrics);
  meta.query_windows = windows.length;
  meta.seasonal_points = seasonal.length;
  return {
    input: { snapshots: snapshots.map((s) => s.snapshot), queries: windows, baseline_valid_from: undefined, seasonal_history: seasonal },
    meta,
    queryText,
  };
}

interface LoadedSnapshot {
  sampleId: string;
  time: number;
  snapshot: SystemSnapshot;
}

async function recentSnapshots(db: Db, target: string, since: Date, limit: number): Promise<LoadedSnapshot[]> {
  const rows = await db
    .select({
      sampleId: systemSnapshots.sampleId,
      snapshotTime: systemSnapshots.snapshotTime,
      ...METRIC_COLUMNS,
      idle_connections: systemSnapshots.idleConnections,
      waiting_connections: systemSnapshots.waitingConnections,
      statements: sql<unknown>`${systemSnapshots.details} -> 'pg_stat_statements'`,
    })
    .from(systemSnapshots)
    .where(and(eq(systemSnapshots.target, target), gte(systemSnapshots.snapshotTime, since)))
    .orderBy(desc(systemSnapshots.snapshotTime), desc(systemSnapshots.id))
    .limit(limit);
  rows.reverse();
  return rows.map(({ sampleId, snapshotTime, statements, ...metrics }) => {
    const availability = statementsAvailabilitySchema.safeParse(statements);
    const snapshot: SystemSnapshot = { snapshot_time: snapshotTime.toISOString(), ...metrics };
    if (availability.success) snapshot.pg_stat_statements = availability.data satisfies StatementsAvailability;
    return { sampleId, time: snapshotTime.getTime(), snapshot };
  });
}

interface QueryRow extends Record<string, unknown> {
  queryid: string;
  /** ms since the epoch: 18 000 rows share a few hundred times, so each is formatted once. */
  at_ms: number | string;
  calls: string | number;
  total_exec_time_ms: number;
  mean_exec_time_ms: number | null;
  rows_per_call: number | null;
  shared_blks_hit: string | number | null;
  shared_blks_read: string | number | null;
  temp_blks_written: string | number | null;
  query: string | null;
}

const num = (v: string | number | null) => (v === null ? null : Number(v));

async function queryWindows(db: Db, target: string, snapshots: readonly LoadedSnapshot[], limits: AnalysisLimits) {
  const newest = snapshots.at(-1)!;
  const sampleIds = snapshots.map((s) => s.sampleId);
  const baselineFrom = new Date(newest.time - limits.historyMs);
  // Two bounded reads in one statement; UNION drops the rows both halves return.
  const result = await db.execute<QueryRow>(sql`
    select queryid, extract(epoch from snapshot_time)::float8 * 1000 as at_ms, calls, total_exec_time_ms, mean_exec_time_ms,
           rows_per_call, shared_blks_hit, shared_blks_read, temp_blks_written,
           case when sample_id = ${newest.sampleId} then query end as query
      from (select w.*, row_number() over (partition by w.sample_id order by w.total_exec_time_ms desc, w.queryid) as heaviness
              from workload_snapshots w
             where w.target = ${target} and w.sample_id in ${sampleIds}) heaviest
     where heaviness <= ${limits.workloadQueriesPerWindow}
    union
    select queryid, extract(epoch from snapshot_time)::float8 * 1000 as at_ms, calls, total_exec_time_ms, mean_exec_time_ms,
           rows_per_call, shared_blks_hit, shared_blks_read, temp_blks_written,
           case when sample_id = ${newest.sampleId} then query end as query
      from (select w.*, row_number() over (partition by w.queryid order by w.snapshot_time desc) as recency
              from workload_snapshots w
             where w.target = ${target}
               and w.queryid in (select n.queryid from workload_snapshots n
                                  where n.target = ${target} and n.sample_id = ${newest.sampleId}
                                  order by n.total_exec_time_ms desc, n.queryid limit ${limits.regressionQueries})
               and w.snapshot_time >= ${baselineFrom.toISOString()} and w.snapshot_time <= ${new Date(newest.time).toISOString()}) newest
     where recency <= ${limits.maxWindowsPerQuery}`);
  const queryText = new Map<string, string>();
  const isoAt = new Map<number, string>();
  const iso = (ms: number) => {
    let text = isoAt.get(ms);
    if (text === undefined) isoAt.set(ms, (text = new Date(ms).toISOString()));
    return text;
  };
  const windows: QueryWindow[] = result.rows.map((r) => {
    if (r.query !== null) queryText.set(r.queryid, r.query);
    return {
      queryid: r.queryid,
      snapshot_time: iso(Math.round(Number(r.at_ms))),
      calls: Number(r.calls),
      total_exec_time_ms: r.total_exec_time_ms,
      mean_exec_time_ms: r.mean_exec_time_ms,
      rows_per_call: r.rows_per_call,
      shared_blks_hit: num(r.shared_blks_hit),
      shared_blks_read: num(r.shared_blks_read),
      temp_blks_written: num(r.temp_blks_written),
    };
  });
  return { windows, queryText };
}

/**
 * Bucket means of the seasonal metrics before the newest bucket, then the raw snapshots of the
 * newest bucket: the seasonal model buckets its input the same way, so this gives the result it
 * would give on the raw history (except for a metric with no value at all in the newest bucket).
 */
async function seasonalHistory(
  db: Db,
  target: string,
  snapshots: readonly LoadedSnapshot[],
  bucketMs: number,
  buckets: number,
  metrics: readonly MetricName[],
): Promise<SystemSnapshot[]> {
  const newest = snapshots.at(-1)!;
  const newestBucketStart = Math.floor(newest.time / bucketMs) * bucketMs;
  const from = new Date(newestBucketStart - buckets * bucketMs);
  const unique = [...new Set(metrics)];
  if (unique.length === 0) return [];
  const averages = sql.join(
    unique.map((m) => sql`avg(${METRIC_COLUMNS[m]})::float8 as ${sql.identifier(m)}`),
    sql`, `,
  );
  const result = await db.execute<Record<string, number | string | null>>(sql`
    select floor(extract(epoch from snapshot_time) * 1000 / ${bucketMs}::int8)::int8 as bucket, ${averages}
      from system_snapshots
     where target = ${target} and snapshot_time >= ${from.toISOString()} and snapshot_time < ${new Date(newestBucketStart).toISOString()}
     group by 1 order by 1`);
  const bucketed: SystemSnapshot[] = result.rows.map((row) => {
    const point: SystemSnapshot = { snapshot_time: new Date(Number(row.bucket) * bucketMs).toISOString() };
    for (const m of unique) point[m] = row[m] === null ? null : Number(row[m]);
    return point;
  });
  const current = snapshots.filter((s) => s.time >= newestBucketStart).map((s) => s.snapshot);
  return [...bucketed, ...current];
}
