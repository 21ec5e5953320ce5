/**
 * Optimization runs in pg2une's database: what the rollout Durable Object writes (the run row,
 * its event timeline, the measured observation, managed indexes) and what the API reads back.
 *
 * Every write is idempotent, because the Durable Object re-sends a batch it could not confirm:
 * the run row is upserted, events are keyed by (run_id, seq), an observation and an index row
 * are inserted once per run.
 */
import { and, desc, eq, gte, isNotNull, lte } from "drizzle-orm";
import { KnobObservationSchema, type KnobObservation } from "../core/optimize/tune-knobs";
import type { IndexRow, ObservationRow, RunRow } from "../core/rollout/records";
import type { Db } from "./db";
import { managedIndexes, optimizationRuns, optimizerObservations, runEvents, systemSnapshots } from "./schema";

export interface EventRow {
  runId: string;
  target: string;
  seq: number;
  at: Date;
  kind: string;
  state: string | null;
  message: string;
  data: Record<string, unknown> | null;
}

/** One transition's worth of records: written together or not at all. */
export interface RunRecordBatch {
  run: RunRow;
  events: EventRow[];
  observation: ObservationRow | null;
  indexes: IndexRow[];
}

export async function writeRunRecords(db: Db, batch: RunRecordBatch): Promise<void> {
  await db.transaction(async (tx) => {
    const { id, ...rest } = batch.run;
    await tx.insert(optimizationRuns).values(batch.run).onConflictDoUpdate({ target: optimizationRuns.id, set: rest });
    if (batch.events.length) await tx.insert(runEvents).values(batch.events).onConflictDoNothing({ target: [runEvents.runId, runEvents.seq] });
    if (batch.observation) {
      const o = batch.observation;
      const existing = await tx
        .select({ id: optimizerObservations.id })
        .from(optimizerObservations)
        .where(and(eq(optimizerObservations.runId, o.runId), eq(optimizerObservations.scoreType, o.scoreType)))
        .limit(1);
      if (existing.length === 0) await tx.insert(optimizerObservations).values(o);
    }
    for (const row of batch.indexes) {
      const existing = await tx
        .select({ id: managedIndexes.id })
        .from(managedIndexes)
        .where(and(eq(managedIndexes.runId, row.runId), eq(managedIndexes.indexName, row.indexName)))
        .limit(1);
      if (existing.length) continue;
      const { createdAt, ...values } = row;
      await tx
        .insert(managedIndexes)
        .values({ ...values, ...(createdAt ? { createdAt } : {}) })
        .onConflictDoNothing();
    }
  });
}

export type RunSummaryRow = typeof optimizationRuns.$inferSelect;

export async function listRuns(db: Db, target: string, limit: number): Promise<RunSummaryRow[]> {
  return db.select().from(optimizationRuns).where(eq(optimizationRuns.target, target)).orderBy(desc(optimizationRuns.startedAt), desc(optimizationRuns.id)).limit(limit);
}

export async function getRun(db: Db, id: string) {
  const [run] = await db.select().from(optimizationRuns).where(eq(optimizationRuns.id, id)).limit(1);
  if (!run) return undefined;
  const events = await db.select().from(runEvents).where(eq(runEvents.runId, id)).orderBy(runEvents.seq);
  const indexes = await db.select().from(managedIndexes).where(eq(managedIndexes.runId, id)).orderBy(managedIndexes.id);
  const observations = await db.select().from(optimizerObservations).where(eq(optimizerObservations.runId, id)).orderBy(optimizerObservations.id);
  return { run, events, indexes, observations };
}

/** The newest classified workload in [since, until], from the stored snapshots. */
export async function latestWorkloadClass(db: Db, target: string, since: Date, until: Date): Promise<string | null> {
  const [row] = await db
    .select({ workloadType: systemSnapshots.workloadType })
    .from(systemSnapshots)
    .where(and(eq(systemSnapshots.target, target), gte(systemSnapshots.snapshotTime, since), lte(systemSnapshots.snapshotTime, until), isNotNull(systemSnapshots.workloadType)))
    .orderBy(desc(systemSnapshots.snapshotTime))
    .limit(1);
  return row?.workloadType ?? null;
}

/** Observations the optimizer warm-starts from: this target, this workload class, newest first. */
export const MAX_OBSERVATIONS = 200;

export async function observationsFor(db: Db, target: string, workloadClass: string): Promise<{ observations: KnobObservation[]; skipped: number }> {
  const rows = await db
    .select()
    .from(optimizerObservations)
    .where(and(eq(optimizerObservations.target, target), eq(optimizerObservations.workloadClass, workloadClass)))
    .orderBy(desc(optimizerObservations.createdAt))
    .limit(MAX_OBSERVATIONS);
  const observations: KnobObservation[] = [];
  let skipped = 0;
  for (const r of rows) {
    const parsed = KnobObservationSchema.safeParse({ workloadClass: r.workloadClass, config: r.config, score: r.score, scoreType: r.scoreType });
    if (parsed.success) observations.push(parsed.data);
    else skipped++;
  }
  return { observations, skipped };
}
