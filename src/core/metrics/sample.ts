/**
 * A raw sample: what the collector read from the target at one instant, as cumulative counters.
 * Nothing here is a rate; rates only exist between two samples (see derive.ts). The sample also
 * carries the server's identity (system identifier, postmaster start time, stats reset times),
 * so a restart, switchover or stats reset between two samples is detected instead of turning
 * into a negative or absurd rate.
 *
 * This is a wire format: the runner's `collect` command returns it, the in-VM agent pushes it to
 * /api/ingest, `pg2une collect --json` prints it, and raw_samples.body stores it. Field names are
 * snake_case like the PostgreSQL columns they come from. Times are ISO-8601 strings.
 *
 * @example
 *   const sample = RawSampleSchema.parse(JSON.parse(body)); // throws a ZodError naming the field
 */
import { z } from "zod";

/** The format version; bump when a field's meaning changes (new optional fields need no bump). */
export const SAMPLE_FORMAT = 1;

/** pg_stat_statements entries a sample carries, heaviest total execution time first. */
export const MAX_TOP_STATEMENTS = 500;
/** Normalized query text is cut here: enough to recognize a statement, bounded push size. */
export const MAX_QUERY_TEXT_CHARS = 2000;

/** What the operator must do when pg_stat_statements is missing (shown by the CLI and API). */
export const PG_STAT_STATEMENTS_INSTRUCTION =
  "add pg_stat_statements to shared_preload_libraries and restart, then CREATE EXTENSION pg_stat_statements";

export const TargetNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i, "target names are 1-63 letters, digits, '_' or '-', starting with a letter or digit");

const Timestamp = z.iso.datetime({ offset: true });
/** A cumulative counter as PostgreSQL reports it (bigint or numeric, never negative). */
const Counter = z.number().finite().nonnegative();
/** Milliseconds of accumulated time (double precision). */
const Millis = z.number().finite().nonnegative();
const Gauge = z.number().int().nonnegative();

export const ServerIdentitySchema = z.object({
  /** server_version_num, e.g. 150018. */
  version_num: z.number().int().min(90000),
  major: z.number().int().min(9),
  /** pg_control_system().system_identifier; null when the role may not read it. Same on a physical standby. */
  system_identifier: z.string().regex(/^\d+$/).nullable(),
  /** pg_postmaster_start_time(): changes on restart, and differs between primary and standby (switchover). */
  postmaster_start_time: Timestamp,
  /** Timeline of the last checkpoint; a promotion starts a new one. Null when unreadable. */
  timeline_id: z.number().int().nonnegative().nullable(),
  in_recovery: z.boolean(),
  /** The database the sample's per-database counters belong to. */
  database: z.string().min(1),
  database_oid: z.number().int().nonnegative(),
});

export const DatabaseStatsSchema = z.object({
  xact_commit: Counter,
  xact_rollback: Counter,
  blks_read: Counter,
  blks_hit: Counter,
  tup_returned: Counter,
  tup_fetched: Counter,
  tup_inserted: Counter,
  tup_updated: Counter,
  tup_deleted: Counter,
  temp_files: Counter,
  temp_bytes: Counter,
  deadlocks: Counter,
  /** Session time accounting (PostgreSQL 14+), milliseconds; null before 14. */
  session_time: Millis.nullable(),
  active_time: Millis.nullable(),
  idle_in_transaction_time: Millis.nullable(),
  stats_reset: Timestamp.nullable(),
});

/** Client backends right now (pg_stat_activity), excluding the collector's own connection. */
export const ActivitySchema = z.object({
  active: Gauge,
  idle: Gauge,
  idle_in_transaction: Gauge,
  idle_in_transaction_aborted: Gauge,
  /** fastpath function call, disabled, or no state visible to the collector's role. */
  other: Gauge,
  /** Waiting on a heavyweight lock (wait_event_type = 'Lock'). */
  waiting_on_locks: Gauge,
  /** All client backends of the sampled database. */
  total: Gauge,
  /** Client backends of every database on the server (max_connections is server-wide). */
  server_total: Gauge,
  /** Age of the oldest open transaction of the sampled database, seconds; null when none. */
  oldest_transaction_seconds: z.number().nonnegative().nullable(),
});

/** Checkpoints: pg_stat_bgwriter up to PostgreSQL 16, pg_stat_checkpointer from 17. */
export const CheckpointStatsSchema = z.object({
  source: z.enum(["pg_stat_bgwriter", "pg_stat_checkpointer"]),
  timed: Counter,
  requested: Counter,
  write_time_ms: Millis,
  sync_time_ms: Millis,
  buffers_written: Counter,
  stats_reset: Timestamp.nullable(),
});

export const BgwriterStatsSchema = z.object({
  buffers_clean: Counter,
  maxwritten_clean: Counter,
  buffers_alloc: Counter,
  /** Buffers written by backends themselves (gone from pg_stat_bgwriter in 17). */
  buffers_backend: Counter.nullable(),
  stats_reset: Timestamp.nullable(),
});

/** pg_stat_wal (PostgreSQL 14+). */
export const WalStatsSchema = z.object({
  wal_records: Counter,
  wal_fpi: Counter,
  wal_bytes: Counter,
  wal_buffers_full: Counter,
  stats_reset: Timestamp.nullable(),
});

export const StatementEntrySchema = z.object({
  /** int64 as a decimal string (JSON numbers cannot hold it exactly). */
  queryid: z.string().regex(/^-?\d+$/),
  userid: z.number().int().nonnegative(),
  /** pg_stat_statements 1.9+ (PostgreSQL 14); null before, where every entry counts as top level. */
  toplevel: z.boolean().nullable(),
  query: z.string().max(MAX_QUERY_TEXT_CHARS).nullable(),
  calls: Counter,
  total_exec_time_ms: Millis,
  /** Population standard deviation of the execution time over all `calls`, as pg_stat_statements reports it. */
  stddev_exec_time_ms: Millis,
  rows: Counter,
  shared_blks_hit: Counter,
  shared_blks_read: Counter,
  temp_blks_read: Counter,
  temp_blks_written: Counter,
  /** When this entry started counting (pg_stat_statements 1.11, PostgreSQL 17); null before. */
  stats_since: Timestamp.nullable(),
});

export const StatementsAvailableSchema = z.object({
  available: z.literal(true),
  extension_version: z.string(),
  /** pg_stat_statements_info (1.9+): entries evicted so far, and the last full reset. */
  info: z.object({ dealloc: Counter, stats_reset: Timestamp.nullable() }).nullable(),
  /** Sums over every entry of the sampled database (top level only where known), not just `top`. */
  totals: z.object({ calls: Counter, total_exec_time_ms: Millis, entries: Gauge }),
  top: z.array(StatementEntrySchema).max(MAX_TOP_STATEMENTS),
});

export const StatementsUnavailableSchema = z.object({
  available: z.literal(false),
  reason: z.enum(["not_preloaded", "extension_missing", "query_failed"]),
  /** What went wrong, in words. */
  message: z.string(),
  /** What the operator should do about it. */
  instruction: z.string(),
});

export const StatementsSchema = z.discriminatedUnion("available", [StatementsAvailableSchema, StatementsUnavailableSchema]);

export const RawSampleSchema = z.object({
  format: z.literal(SAMPLE_FORMAT),
  /** Unique per sample; a re-sent sample is recognized by it and stored once. */
  sample_id: z.string().min(8).max(100),
  target: TargetNameSchema,
  /** The server's clock when the counters were read. */
  collected_at: Timestamp,
  server: ServerIdentitySchema,
  database: DatabaseStatsSchema,
  activity: ActivitySchema,
  checkpoints: CheckpointStatsSchema,
  bgwriter: BgwriterStatsSchema,
  /** pg_stat_wal; null before PostgreSQL 14. */
  wal: WalStatsSchema.nullable(),
  /** Bytes of WAL ever written (pg_current_wal_lsn() − 0/0); null on a standby. */
  wal_lsn_bytes: Counter.nullable(),
  statements: StatementsSchema,
  /** Current values of the tuned settings, as SHOW prints them ("128MB", "on", "0.9"). */
  settings: z.record(z.string(), z.string()),
});

export type RawSample = z.output<typeof RawSampleSchema>;
export type ServerIdentity = z.output<typeof ServerIdentitySchema>;
export type DatabaseStats = z.output<typeof DatabaseStatsSchema>;
export type Activity = z.output<typeof ActivitySchema>;
export type CheckpointStats = z.output<typeof CheckpointStatsSchema>;
export type BgwriterStats = z.output<typeof BgwriterStatsSchema>;
export type WalStats = z.output<typeof WalStatsSchema>;
export type StatementEntry = z.output<typeof StatementEntrySchema>;
export type Statements = z.output<typeof StatementsSchema>;
export type StatementsAvailable = z.output<typeof StatementsAvailableSchema>;
