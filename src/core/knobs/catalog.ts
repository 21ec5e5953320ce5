/**
 * The knobs pg2une may tune, and the ones it must never touch without an operator's say-so.
 *
 * Whether a knob needs a restart is NOT stored here: it comes from the target's own
 * `pg_settings.context` (it differs across versions and builds). What is stored is what does
 * not vary: the kind of value, the unit pg_settings reports it in, and whether the search space
 * is better explored on a log scale.
 */

export type KnobKind = "memory" | "duration" | "integer" | "real" | "bool" | "enum";

/** Units pg_settings reports (`pg_settings.unit`). Memory: bytes multiples; durations: time. */
export type PgUnit = "B" | "kB" | "8kB" | "16kB" | "MB" | "16MB" | "us" | "ms" | "s" | "min";

export interface KnobSpec {
  name: string;
  kind: KnobKind;
  /** The unit pg_settings reports the setting in; a unitless string value means this unit. */
  pgUnit: PgUnit | null;
  /** Explore on a log scale (memory sizes, costs spanning orders of magnitude). */
  logScale: boolean;
  /** Allowed values for enum knobs (the server's enumvals still win when validating). */
  enumValues?: readonly string[];
  description: string;
}

export const KNOB_CATALOG: readonly KnobSpec[] = [
  { name: "shared_buffers", kind: "memory", pgUnit: "8kB", logScale: true, description: "PostgreSQL's own page cache" },
  { name: "effective_cache_size", kind: "memory", pgUnit: "8kB", logScale: true, description: "planner's estimate of OS + PostgreSQL cache" },
  { name: "work_mem", kind: "memory", pgUnit: "kB", logScale: true, description: "memory per sort/hash node before spilling to disk" },
  { name: "maintenance_work_mem", kind: "memory", pgUnit: "kB", logScale: true, description: "memory for VACUUM, CREATE INDEX" },
  { name: "random_page_cost", kind: "real", pgUnit: null, logScale: false, description: "planner cost of a random page read" },
  { name: "max_connections", kind: "integer", pgUnit: null, logScale: true, description: "maximum concurrent connections" },
  { name: "effective_io_concurrency", kind: "integer", pgUnit: null, logScale: false, description: "concurrent I/O requests the storage handles" },
  { name: "max_wal_size", kind: "memory", pgUnit: "MB", logScale: true, description: "WAL size that triggers a checkpoint" },
  { name: "min_wal_size", kind: "memory", pgUnit: "MB", logScale: true, description: "WAL kept for recycling" },
  { name: "checkpoint_completion_target", kind: "real", pgUnit: null, logScale: false, description: "fraction of the interval to spread checkpoint writes over" },
  { name: "checkpoint_timeout", kind: "duration", pgUnit: "s", logScale: true, description: "time between automatic checkpoints" },
  { name: "wal_buffers", kind: "memory", pgUnit: "8kB", logScale: true, description: "shared memory for WAL not yet written (-1 = auto)" },
  { name: "default_statistics_target", kind: "integer", pgUnit: null, logScale: true, description: "ANALYZE sample size / histogram buckets" },
  { name: "max_parallel_workers_per_gather", kind: "integer", pgUnit: null, logScale: false, description: "parallel workers per Gather node" },
  { name: "jit", kind: "bool", pgUnit: null, logScale: false, description: "JIT compilation of expressions" },
  { name: "bgwriter_lru_maxpages", kind: "integer", pgUnit: null, logScale: false, description: "max pages the background writer writes per round" },
  { name: "bgwriter_delay", kind: "duration", pgUnit: "ms", logScale: true, description: "sleep between background writer rounds" },
];

export type KnobName = (typeof KNOB_CATALOG)[number]["name"];

const BY_NAME: ReadonlyMap<string, KnobSpec> = new Map(KNOB_CATALOG.map((k) => [k.name, k]));

export const CATALOG_KNOB_NAMES: readonly string[] = KNOB_CATALOG.map((k) => k.name);

export function knobSpec(name: string): KnobSpec | undefined {
  return BY_NAME.get(name);
}

/**
 * Settings pg2une refuses to change unless an operator allow-lists them by exact name.
 * Each entry says why, so the refusal can explain itself.
 */
const PROTECTED: ReadonlyArray<{ match: (name: string) => boolean; reason: string }> = [
  { match: (n) => ["fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "data_sync_retry"].includes(n), reason: "durability: changing it can lose committed data" },
  { match: (n) => n === "wal_level" || n.startsWith("archive_") || n === "restore_command", reason: "WAL archiving/replication level: backups and replicas depend on it" },
  {
    match: (n) =>
      n.startsWith("primary_") ||
      n.startsWith("hot_standby") ||
      n.startsWith("recovery_") ||
      n.startsWith("synchronous_standby") ||
      ["max_replication_slots", "max_wal_senders", "wal_keep_size", "wal_sender_timeout", "wal_receiver_timeout", "max_slot_wal_keep_size"].includes(n),
    reason: "replication: replicas and replication slots depend on it",
  },
  {
    match: (n) =>
      n.startsWith("ssl") ||
      n.startsWith("krb_") ||
      n.startsWith("password_") ||
      ["authentication_timeout", "db_user_namespace", "hba_file", "ident_file", "row_security", "scram_iterations"].includes(n),
    reason: "authentication/security",
  },
  {
    match: (n) =>
      ["listen_addresses", "port", "data_directory", "config_file", "external_pid_file", "dynamic_library_path", "zero_damaged_pages", "ignore_checksum_failure", "ignore_system_indexes", "allow_system_table_mods"].includes(n) ||
      n.startsWith("unix_socket_") ||
      n.endsWith("_preload_libraries"),
    reason: "server identity or safety: not a performance setting",
  },
];

/** Why a setting is protected, or undefined when pg2une may tune it (or it is allow-listed). */
export function forbiddenReason(name: string, allowList: readonly string[] = []): string | undefined {
  if (allowList.includes(name)) return undefined;
  return PROTECTED.find((p) => p.match(name))?.reason;
}
