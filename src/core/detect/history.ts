/**
 * The detectors' input: a history of system snapshots shaped like `/api/metrics/history` items
 * and per-query windows shaped like workload snapshots, both snake_case as served by the API.
 * Any metric may be null (no traffic, a counter reset): a null is skipped, never read as 0.
 */
import { z } from "zod";

const metric = z.number().finite().nullable().optional();

/**
 * Whether the sample behind a snapshot could read pg_stat_statements (as /api/metrics/history
 * items carry it). Without it there are no per-query windows: no regressions, and a workload
 * class from system rates only; the instruction says what the operator should do.
 */
export const statementsAvailabilitySchema = z.object({
  available: z.boolean(),
  reason: z.string().optional(),
  message: z.string().optional(),
  instruction: z.string().optional(),
});
export type StatementsAvailability = z.infer<typeof statementsAvailabilitySchema>;

/** One derived snapshot (a row of system_snapshots as the API serves it). Extra fields are kept. */
export const systemSnapshotSchema = z
  .object({
    snapshot_time: z.iso.datetime({ offset: true }),
    tps: metric,
    qps: metric,
    latency_p50: metric,
    latency_p95: metric,
    latency_p99: metric,
    latency_mean: metric,
    buffer_hit_ratio: metric,
    temp_bytes_per_sec: metric,
    wal_bytes_per_sec: metric,
    active_connections: metric,
    idle_connections: metric,
    waiting_connections: metric,
    total_connections: metric,
    pg_stat_statements: statementsAvailabilitySchema.optional(),
  })
  .loose();
export type SystemSnapshot = z.infer<typeof systemSnapshotSchema>;

/** One query's statistics over one sample window (a row of workload_snapshots). */
export const queryWindowSchema = z
  .object({
    queryid: z.union([z.string().min(1), z.number().int()]).transform(String),
    snapshot_time: z.iso.datetime({ offset: true }),
    calls: z.number().finite().nonnegative(),
    mean_exec_time_ms: metric,
    total_exec_time_ms: metric,
    rows_per_call: metric,
    shared_blks_hit: metric,
    shared_blks_read: metric,
    temp_blks_written: metric,
  })
  .loose();
export type QueryWindow = z.output<typeof queryWindowSchema>;

/** The numeric snapshot fields a detector may be pointed at. */
export const METRIC_NAMES = [
  "tps",
  "qps",
  "latency_p50",
  "latency_p95",
  "latency_p99",
  "latency_mean",
  "buffer_hit_ratio",
  "temp_bytes_per_sec",
  "wal_bytes_per_sec",
  "active_connections",
  "total_connections",
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export const metricNameSchema = z.enum(METRIC_NAMES);

/** The non-null values of one metric with the positions (in the history) they came from. */
export interface MetricSeries {
  metric: MetricName;
  /** Position of each value in the snapshot array it was read from. */
  indices: number[];
  values: number[];
  times: number[];
}

export function metricSeries(history: readonly SystemSnapshot[], metric: MetricName, fromIndex = 0): MetricSeries {
  const series: MetricSeries = { metric, indices: [], values: [], times: [] };
  for (let i = fromIndex; i < history.length; i++) {
    const snapshot = history[i]!;
    const value = snapshot[metric];
    if (typeof value !== "number" || !Number.isFinite(value)) continue;
    series.indices.push(i);
    series.values.push(value);
    series.times.push(Date.parse(snapshot.snapshot_time));
  }
  return series;
}

/** Index of the first snapshot at or after `time` (history.length when none). */
export function firstIndexAtOrAfter(history: readonly SystemSnapshot[], time: number): number {
  for (let i = 0; i < history.length; i++) {
    if (Date.parse(history[i]!.snapshot_time) >= time) return i;
  }
  return history.length;
}

/** The newest non-null value of a metric, or null. */
export function latestValue(history: readonly SystemSnapshot[], metric: MetricName): number | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const value = history[i]![metric];
    if (typeof value === "number" && Number.isFinite(value)) return value;
  }
  return null;
}

/**
 * A Date.parse that remembers: per-query windows repeat their snapshot's time string (500 queries
 * a window share one), and parsing 180 000 ISO strings costs more than the detectors themselves.
 */
export function timeParser(): (iso: string) => number {
  const seen = new Map<string, number>();
  return (iso) => {
    let t = seen.get(iso);
    if (t === undefined) {
      t = Date.parse(iso);
      seen.set(iso, t);
    }
    return t;
  };
}
