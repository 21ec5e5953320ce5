/**
 * Storing raw samples and their derived snapshots. Every way a sample arrives (the runner's
 * `collect` answer, an agent's push to /api/ingest, a CLI upload) ends in `storeSample`, so the
 * rules live in one place:
 *
 * - a sample id seen before for the target is a duplicate: nothing is written, and the caller is
 *   told so (ingest answers 200, not an error — the agent may have retried after a timeout);
 * - the sample is derived against its true predecessor by collected_at, not the last one that
 *   arrived; if a later sample is already stored, that successor is re-derived against the new
 *   one, so an out-of-order arrival leaves the same history as an in-order one;
 * - raw sample, snapshot, per-query rows and the successor's re-derivation are one transaction,
 *   serialized per target by an advisory lock: on any failure nothing is stored.
 *
 * @example
 *   const result = await storeSample(db, "default", sample, "agent");
 *   if (result.status === "duplicate") console.log("already had", result.sampleId);
 */
import { and, asc, desc, eq, gt, inArray, lt, sql } from "drizzle-orm";
import { derive, metricsItemOf, RawSampleSchema, type RawSample, type Snapshot } from "../core/metrics";
import type { Db } from "./db";
import { rawSamples, systemSnapshots, workloadSnapshots } from "./schema";

export type SampleSource = "runner" | "agent" | "cli";

export type StoreResult =
  | { status: "stored"; sampleId: string; snapshot: Snapshot; rederivedSampleId: string | null }
  | { status: "duplicate"; sampleId: string };

export class SampleTargetMismatchError extends Error {
  override name = "SampleTargetMismatchError";
}

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export async function storeSample(db: Db, target: string, sample: RawSample, source: SampleSource): Promise<StoreResult> {
  if (sample.target !== target) {
    throw new SampleTargetMismatchError(`sample ${sample.sample_id} is for target ${JSON.stringify(sample.target)}, not ${JSON.stringify(target)}`);
  }
  const collectedAt = new Date(sample.collected_at);
  return db.transaction(async (tx) => {
    // One writer per target at a time, so two concurrent arrivals see each other as neighbours.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`pg2une.samples:${target}`}, 0))`);
    const inserted = await tx
      .insert(rawSamples)
      .values({ target, sampleId: sample.sample_id, collectedAt, source, body: sample })
      .onConflictDoNothing({ target: [rawSamples.target, rawSamples.sampleId] })
      .returning({ id: rawSamples.id });
    if (inserted.length === 0) return { status: "duplicate", sampleId: sample.sample_id } as const;

    const [predecessor] = await tx
      .select({ body: rawSamples.body })
      .from(rawSamples)
      .where(and(eq(rawSamples.target, target), lt(rawSamples.collectedAt, collectedAt)))
      .orderBy(desc(rawSamples.collectedAt), desc(rawSamples.id))
      .limit(1);
    const [successor] = await tx
      .select({ sampleId: rawSamples.sampleId, body: rawSamples.body })
      .from(rawSamples)
      .where(and(eq(rawSamples.target, target), gt(rawSamples.collectedAt, collectedAt)))
      .orderBy(asc(rawSamples.collectedAt), asc(rawSamples.id))
      .limit(1);

    const snapshot = derive(predecessor ? storedSample(predecessor.body) : null, sample);
    await writeSnapshot(tx, target, snapshot);
    let rederivedSampleId: string | null = null;
    if (successor) {
      await deleteSnapshots(tx, target, [successor.sampleId]);
      await writeSnapshot(tx, target, derive(sample, storedSample(successor.body)));
      rederivedSampleId = successor.sampleId;
    }
    return { status: "stored", sampleId: sample.sample_id, snapshot, rederivedSampleId } as const;
  });
}

/** A raw_samples.body read back; validated because it may predate a format change. */
function storedSample(body: unknown): RawSample {
  return RawSampleSchema.parse(body);
}

async function writeSnapshot(tx: Tx, target: string, s: Snapshot): Promise<void> {
  const snapshotTime = new Date(s.snapshot_time);
  await tx.insert(systemSnapshots).values({
    target,
    sampleId: s.sample_id,
    snapshotTime,
    windowSeconds: s.window_seconds,
    tps: s.tps,
    qps: s.qps,
    latencyP50: s.latency_p50,
    latencyP95: s.latency_p95,
    latencyP99: s.latency_p99,
    latencyMean: s.latency_mean,
    bufferHitRatio: s.buffer_hit_ratio,
    tempBytesPerSec: s.temp_bytes_per_sec,
    walBytesPerSec: s.wal_bytes_per_sec,
    deadlocks: s.deadlocks,
    checkpointsTimed: s.checkpoints_timed,
    checkpointsReq: s.checkpoints_req,
    activeConnections: s.active_connections,
    idleConnections: s.idle_connections,
    idleInTransaction: s.idle_in_transaction,
    waitingConnections: s.waiting_connections,
    totalConnections: s.total_connections,
    resetDetected: s.reset_detected,
    details: { ...metricsItemOf(s), target },
  });
  if (s.queries.length === 0) return;
  await tx.insert(workloadSnapshots).values(
    s.queries.map((q) => ({
      target,
      sampleId: s.sample_id,
      snapshotTime,
      queryid: q.queryid,
      query: q.query,
      calls: q.calls,
      totalExecTimeMs: q.total_exec_time_ms,
      meanExecTimeMs: q.mean_exec_time_ms,
      stddevExecTimeMs: q.stddev_exec_time_ms,
      rowsPerCall: q.rows_per_call,
      sharedBlksHit: q.shared_blks_hit,
      sharedBlksRead: q.shared_blks_read,
      tempBlksWritten: q.temp_blks_written,
      resetDetected: q.reset,
    })),
  );
}

async function deleteSnapshots(tx: Tx, target: string, sampleIds: string[]): Promise<void> {
  await tx.delete(workloadSnapshots).where(and(eq(workloadSnapshots.target, target), inArray(workloadSnapshots.sampleId, sampleIds)));
  await tx.delete(systemSnapshots).where(and(eq(systemSnapshots.target, target), inArray(systemSnapshots.sampleId, sampleIds)));
}

export interface PruneReport {
  cutoff: string;
  rawSamples: number;
  systemSnapshots: number;
  workloadSnapshots: number;
}

/**
 * Deletes samples and snapshots older than `days` before `now`: for every target (the cron's
 * retention), or for one when `target` is given. Per-query rows go by their snapshot's sample id
 * (the (target, sample_id, queryid) index), not by a scan.
 */
export async function pruneOlderThan(db: Db, days: number, now: Date = new Date(), opts: { target?: string } = {}): Promise<PruneReport> {
  if (!(days > 0)) throw new RangeError(`retention must be a positive number of days, got ${days}`);
  const cutoff = new Date(now.getTime() - days * 86_400_000);
  const target = opts.target;
  return db.transaction(async (tx) => {
    const workload = await tx.execute(sql`
      delete from ${workloadSnapshots} w
      using ${systemSnapshots} s
      where s.snapshot_time < ${cutoff.toISOString()} and w.target = s.target and w.sample_id = s.sample_id
        ${target === undefined ? sql`` : sql`and s.target = ${target}`}`);
    const system = await tx
      .delete(systemSnapshots)
      .where(and(lt(systemSnapshots.snapshotTime, cutoff), target === undefined ? undefined : eq(systemSnapshots.target, target)))
      .returning({ id: systemSnapshots.id });
    const raw = await tx
      .delete(rawSamples)
      .where(and(lt(rawSamples.collectedAt, cutoff), target === undefined ? undefined : eq(rawSamples.target, target)))
      .returning({ id: rawSamples.id });
    return {
      cutoff: cutoff.toISOString(),
      rawSamples: raw.length,
      systemSnapshots: system.length,
      workloadSnapshots: workload.rowCount ?? 0,
    };
  });
}
