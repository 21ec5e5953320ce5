/**
 * pg2une's own database (Neon in production, a local PostgreSQL in dev and tests).
 * Schema as code: `npm run db:generate` writes the SQL migration into migrations/, which is
 * committed and never edited by hand after release. Every row is keyed by target.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();

/** Tuned databases. The default target comes from env and needs no row; rows add more. */
export const targets = pgTable("targets", {
  name: text("name").primaryKey(),
  runnerUrl: text("runner_url").notNull(),
  runnerKeyId: text("runner_key_id").notNull(),
  mode: text("mode", { enum: ["direct", "canary"] }).notNull().default("direct"),
  totalRamMb: integer("total_ram_mb").notNull().default(4096),
  cpus: integer("cpus"),
  storage: text("storage", { enum: ["ssd", "hdd", "san"] }),
  enabled: boolean("enabled").notNull().default(true),
  createdAt: createdAt(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/**
 * Raw samples as collected (cumulative counters). Kept so a sample that arrives out of order can
 * be derived against its true neighbours, and so derivation can be replayed.
 */
export const rawSamples = pgTable(
  "raw_samples",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    target: text("target").notNull(),
    sampleId: text("sample_id").notNull(),
    collectedAt: timestamp("collected_at", { withTimezone: true, mode: "date" }).notNull(),
    source: text("source", { enum: ["runner", "agent", "cli"] }).notNull(),
    body: jsonb("body").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("raw_samples_target_sample_uq").on(t.target, t.sampleId),
    index("raw_samples_target_time_idx").on(t.target, t.collectedAt),
  ],
);

/** One derived snapshot per sample window: rates, latency estimates, connections. */
export const systemSnapshots = pgTable(
  "system_snapshots",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    target: text("target").notNull(),
    sampleId: text("sample_id").notNull(),
    snapshotTime: timestamp("snapshot_time", { withTimezone: true, mode: "date" }).notNull(),
    windowSeconds: doublePrecision("window_seconds"),
    tps: doublePrecision("tps"),
    qps: doublePrecision("qps"),
    latencyP50: doublePrecision("latency_p50"),
    latencyP95: doublePrecision("latency_p95"),
    latencyP99: doublePrecision("latency_p99"),
    latencyMean: doublePrecision("latency_mean"),
    bufferHitRatio: doublePrecision("buffer_hit_ratio"),
    tempBytesPerSec: doublePrecision("temp_bytes_per_sec"),
    walBytesPerSec: doublePrecision("wal_bytes_per_sec"),
    deadlocks: doublePrecision("deadlocks"),
    checkpointsTimed: doublePrecision("checkpoints_timed"),
    checkpointsReq: doublePrecision("checkpoints_req"),
    activeConnections: integer("active_connections"),
    idleConnections: integer("idle_connections"),
    idleInTransaction: integer("idle_in_transaction"),
    waitingConnections: integer("waiting_connections"),
    totalConnections: integer("total_connections"),
    workloadType: text("workload_type"),
    /** Set when a counter went backwards (stats reset, restart, switchover): rates are null. */
    resetDetected: boolean("reset_detected").notNull().default(false),
    /** Everything derived, including fields without a column of their own. */
    details: jsonb("details"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("system_snapshots_target_sample_uq").on(t.target, t.sampleId),
    index("system_snapshots_target_time_idx").on(t.target, t.snapshotTime),
  ],
);

/** Per-query statistics over one sample window (from pg_stat_statements deltas). */
export const workloadSnapshots = pgTable(
  "workload_snapshots",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    target: text("target").notNull(),
    sampleId: text("sample_id").notNull(),
    snapshotTime: timestamp("snapshot_time", { withTimezone: true, mode: "date" }).notNull(),
    queryid: text("queryid").notNull(),
    query: text("query"),
    calls: bigint("calls", { mode: "number" }).notNull(),
    totalExecTimeMs: doublePrecision("total_exec_time_ms").notNull(),
    meanExecTimeMs: doublePrecision("mean_exec_time_ms"),
    stddevExecTimeMs: doublePrecision("stddev_exec_time_ms"),
    rowsPerCall: doublePrecision("rows_per_call"),
    sharedBlksHit: bigint("shared_blks_hit", { mode: "number" }),
    sharedBlksRead: bigint("shared_blks_read", { mode: "number" }),
    tempBlksWritten: bigint("temp_blks_written", { mode: "number" }),
    resetDetected: boolean("reset_detected").notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("workload_snapshots_target_sample_query_uq").on(t.target, t.sampleId, t.queryid),
    index("workload_snapshots_target_query_time_idx").on(t.target, t.queryid, t.snapshotTime),
  ],
);

/** One optimization run: what was proposed, how it was rolled out, what was measured. */
export const optimizationRuns = pgTable(
  "optimization_runs",
  {
    id: text("id").primaryKey(),
    target: text("target").notNull(),
    action: text("action", { enum: ["knobs", "queries", "holistic"] }).notNull(),
    mode: text("mode", { enum: ["direct", "canary"] }).notNull(),
    trigger: text("trigger", { enum: ["manual", "auto"] }).notNull(),
    state: text("state").notNull(),
    step: text("step"),
    workloadClass: text("workload_class"),
    /** measured | surrogate | pgtune: where the proposal's objective came from. */
    objectiveSource: text("objective_source"),
    proposedConfig: jsonb("proposed_config"),
    previousConfig: jsonb("previous_config"),
    baselineMetrics: jsonb("baseline_metrics"),
    resultMetrics: jsonb("result_metrics"),
    improvementPct: doublePrecision("improvement_pct"),
    outcome: text("outcome", { enum: ["promoted", "rolled_back", "failed", "kept", "no_change"] }),
    reason: text("reason"),
    details: jsonb("details"),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [index("optimization_runs_target_started_idx").on(t.target, t.startedAt)],
);

/** The timeline of a run: every transition and measurement, in order. */
export const runEvents = pgTable(
  "run_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    runId: text("run_id").notNull(),
    target: text("target").notNull(),
    seq: integer("seq").notNull(),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    kind: text("kind").notNull(),
    state: text("state"),
    message: text("message").notNull(),
    data: jsonb("data"),
  },
  (t) => [uniqueIndex("run_events_run_seq_uq").on(t.runId, t.seq), index("run_events_target_at_idx").on(t.target, t.at)],
);

/** Measured (or, as a prior only, surrogate) results of configurations, per workload class. */
export const optimizerObservations = pgTable(
  "optimizer_observations",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    target: text("target").notNull(),
    runId: text("run_id"),
    workloadClass: text("workload_class").notNull(),
    config: jsonb("config").notNull(),
    /** Improvement vs baseline: 0.6·Δtps% + 0.4·(−Δp99%). Higher is better. */
    score: doublePrecision("score").notNull(),
    scoreType: text("score_type", { enum: ["surrogate", "live_test", "deployment"] }).notNull(),
    tps: doublePrecision("tps"),
    latencyP99: doublePrecision("latency_p99"),
    baselineTps: doublePrecision("baseline_tps"),
    baselineLatencyP99: doublePrecision("baseline_latency_p99"),
    createdAt: createdAt(),
  },
  (t) => [index("optimizer_observations_target_class_idx").on(t.target, t.workloadClass)],
);

/** Indexes pg2une created, so an operator can list them and pg2une can remove them. */
export const managedIndexes = pgTable(
  "managed_indexes",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    target: text("target").notNull(),
    runId: text("run_id"),
    indexName: text("index_name").notNull(),
    tableName: text("table_name").notNull(),
    columns: jsonb("columns").notNull(),
    ddl: text("ddl").notNull(),
    status: text("status", { enum: ["created", "kept", "dropped", "failed"] }).notNull(),
    measured: jsonb("measured"),
    createdAt: createdAt(),
    droppedAt: timestamp("dropped_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    uniqueIndex("managed_indexes_target_name_live_uq")
      .on(t.target, t.indexName)
      .where(sql`${t.droppedAt} is null`),
  ],
);

/**
 * Nonces of accepted signed pushes to /api/ingest, each kept until its request could no longer
 * pass the freshness check (timestamp + 300 s), so a captured push cannot be replayed. In the
 * database because Worker isolates share no memory; the primary key makes check-and-remember one
 * atomic statement. Expired rows are deleted by the cron.
 */
export const seenNonces = pgTable(
  "seen_nonces",
  {
    nonce: text("nonce").primaryKey(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("seen_nonces_expires_idx").on(t.expiresAt)],
);

export const schema = {
  targets,
  rawSamples,
  systemSnapshots,
  workloadSnapshots,
  optimizationRuns,
  runEvents,
  optimizerObservations,
  managedIndexes,
  seenNonces,
};
