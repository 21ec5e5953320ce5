/**
 * Reading derived snapshots back for the API and for detection: the latest one of a target (with
 * its heaviest queries) and the history since a point in time, as MetricsItem objects (the
 * snake_case shape GET /api/metrics/history serves).
 */
import { and, asc, desc, eq, gte } from "drizzle-orm";
import { MetricsItemSchema, type MetricsItem } from "../core/metrics";
import type { Db } from "./db";
import { systemSnapshots, workloadSnapshots } from "./schema";

/** Per-query rows served with the latest snapshot, heaviest total time first. */
export const LATEST_QUERY_ROWS = 20;

export interface QueryRow {
  queryid: string;
  snapshot_time: string;
  query: string | null;
  calls: number;
  total_exec_time_ms: number;
  mean_exec_time_ms: number | null;
  stddev_exec_time_ms: number | null;
  rows_per_call: number | null;
  shared_blks_hit: number | null;
  shared_blks_read: number | null;
  temp_blks_written: number | null;
  reset: boolean;
}

type SnapshotRow = typeof systemSnapshots.$inferSelect;

/** The stored item: `details` holds the whole derived snapshot; the columns are authoritative for time. */
function itemOf(row: SnapshotRow): MetricsItem {
  const parsed = MetricsItemSchema.safeParse({ ...(row.details as object), target: row.target, sample_id: row.sampleId, snapshot_time: row.snapshotTime.toISOString() });
  if (!parsed.success) throw new Error(`stored snapshot ${row.target}/${row.sampleId} does not parse: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export async function latestSnapshot(db: Db, target: string): Promise<{ item: MetricsItem; queries: QueryRow[] } | undefined> {
  const [row] = await db
    .select()
    .from(systemSnapshots)
    .where(eq(systemSnapshots.target, target))
    .orderBy(desc(systemSnapshots.snapshotTime), desc(systemSnapshots.id))
    .limit(1);
  if (!row) return undefined;
  const rows = await db
    .select()
    .from(workloadSnapshots)
    .where(and(eq(workloadSnapshots.target, target), eq(workloadSnapshots.sampleId, row.sampleId)))
    .orderBy(desc(workloadSnapshots.totalExecTimeMs))
    .limit(LATEST_QUERY_ROWS);
  return {
    item: itemOf(row),
    queries: rows.map((q) => ({
      queryid: q.queryid,
      snapshot_time: q.snapshotTime.toISOString(),
      query: q.query,
      calls: q.calls,
      total_exec_time_ms: q.totalExecTimeMs,
      mean_exec_time_ms: q.meanExecTimeMs,
      stddev_exec_time_ms: q.stddevExecTimeMs,
      rows_per_call: q.rowsPerCall,
      shared_blks_hit: q.sharedBlksHit,
      shared_blks_read: q.sharedBlksRead,
      temp_blks_written: q.tempBlksWritten,
      reset: q.resetDetected,
    })),
  };
}

/** Snapshots with snapshot_time ≥ since, oldest first. */
export async function snapshotHistory(db: Db, target: string, since: Date): Promise<MetricsItem[]> {
  const rows = await db
    .select()
    .from(systemSnapshots)
    .where(and(eq(systemSnapshots.target, target), gte(systemSnapshots.snapshotTime, since)))
    .orderBy(asc(systemSnapshots.snapshotTime), asc(systemSnapshots.id));
  return rows.map(itemOf);
}
