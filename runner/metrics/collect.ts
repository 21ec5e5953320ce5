/**
 * The collector: reads one raw sample (src/core/metrics/sample.ts) from a target over an open
 * connection. Read-only, a handful of catalog queries inside one transaction with a statement
 * timeout, so it is safe to run every few seconds against production.
 *
 * What differs between PostgreSQL 13 and 17 is detected from the catalog, not guessed from the
 * version number: pg_stat_statements' columns (total_time before 1.8, total_exec_time after;
 * toplevel from 1.9; stats_since from 1.11 — an old extension version can sit on a new
 * server), pg_stat_checkpointer (17) versus the checkpoint columns of pg_stat_bgwriter, and
 * pg_stat_wal (14). Per-database views are read with to_jsonb so a new column never breaks us.
 *
 * pg_stat_statements missing (not preloaded, extension not created, or unreadable) never fails the
 * sample: it says so, with what the operator should do, and everything else is still collected.
 *
 * @example
 *   const client = new pg.Client({ connectionString: url });
 *   await client.connect();
 *   const sample = await collectSample(client, { target: "default", settingNames: ["work_mem"] });
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import {
  MAX_QUERY_TEXT_CHARS,
  MAX_TOP_STATEMENTS,
  PG_STAT_STATEMENTS_INSTRUCTION,
  RawSampleSchema,
  SAMPLE_FORMAT,
  type Activity,
  type BgwriterStats,
  type CheckpointStats,
  type DatabaseStats,
  type RawSample,
  type StatementEntry,
  type Statements,
  type WalStats,
} from "../../src/core/metrics";
import { CATALOG_KNOB_NAMES } from "../../src/core/knobs";

/** Settings read when the caller names none: the knobs pg2une tunes. */
export const DEFAULT_SETTING_NAMES: readonly string[] = CATALOG_KNOB_NAMES;

/** Every collector query carries this comment, so its own statements are left out of the sample. */
export const COLLECTOR_MARKER = "pg2une:collect";
const TAG = `/* ${COLLECTOR_MARKER} */`;

/** A collect that takes longer than this is cancelled rather than piling up on a sick server. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;

export interface CollectOptions {
  target: string;
  /** Settings whose current values go into the sample (default DEFAULT_SETTING_NAMES). */
  settingNames?: readonly string[];
  /** pg_stat_statements entries to keep, heaviest first (default and maximum 500). */
  topStatements?: number;
  sampleId?: string;
  statementTimeoutMs?: number;
}

type Row = Record<string, unknown>;

export async function collectSample(client: pg.Client, opts: CollectOptions): Promise<RawSample> {
  const timeout = Math.max(1, Math.floor(opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS));
  const topN = Math.min(MAX_TOP_STATEMENTS, Math.max(1, Math.floor(opts.topStatements ?? MAX_TOP_STATEMENTS)));
  await client.query(`${TAG} begin read only`);
  try {
    await client.query(`${TAG} set local statement_timeout = ${timeout}`);
    const head = await one(
      client,
      `${TAG} select clock_timestamp() as collected_at,
         current_setting('server_version_num')::int as version_num,
         pg_postmaster_start_time() as postmaster_start_time,
         pg_is_in_recovery() as in_recovery,
         current_database() as database,
         (select oid from pg_database where datname = current_database())::int8 as database_oid,
         case when pg_is_in_recovery() then null else pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') end as wal_lsn_bytes,
         (select to_jsonb(d) from pg_stat_database d where d.datname = current_database()) as db`,
    );
    const databaseOid = Number(head.database_oid);
    const controlData = await optional(client, `${TAG} select (select system_identifier::text from pg_control_system()) as sysid, (select timeline_id from pg_control_checkpoint()) as tli`);
    const activity = await readActivity(client, databaseOid);
    const { checkpoints, bgwriter } = await readCheckpoints(client);
    const wal = await readWal(client);
    const statements = await readStatements(client, databaseOid, String(head.database), topN);
    const settings = await readSettings(client, opts.settingNames ?? DEFAULT_SETTING_NAMES);
    await client.query(`${TAG} commit`);
    const versionNum = Number(head.version_num);
    const sample: RawSample = {
      format: SAMPLE_FORMAT,
      sample_id: opts.sampleId ?? randomUUID(),
      target: opts.target,
      collected_at: isoOf(head.collected_at)!,
      server: {
        version_num: versionNum,
        major: Math.floor(versionNum / 10_000),
        system_identifier: controlData?.sysid != null ? String(controlData.sysid) : null,
        postmaster_start_time: isoOf(head.postmaster_start_time)!,
        timeline_id: controlData?.tli != null ? Number(controlData.tli) : null,
        in_recovery: Boolean(head.in_recovery),
        database: String(head.database),
        database_oid: databaseOid,
      },
      database: databaseStats(head.db as Row),
      activity,
      checkpoints,
      bgwriter,
      wal,
      wal_lsn_bytes: head.wal_lsn_bytes == null ? null : Number(head.wal_lsn_bytes),
      statements,
      settings,
    };
    // A collector bug must surface here, not as a 400 at ingest or a wrong rate later.
    return RawSampleSchema.parse(sample);
  } catch (err) {
    await client.query(`${TAG} rollback`).catch(() => undefined);
    throw err;
  }
}

async function one(client: pg.Client, sql: string, params: unknown[] = []): Promise<Row> {
  const { rows } = await client.query<Row>(sql, params);
  if (!rows[0]) throw new Error(`collector query returned no row: ${sql.slice(0, 80)}`);
  return rows[0];
}

/** A query that may fail for lack of privileges: undefined instead of aborting the sample. */
async function optional(client: pg.Client, sql: string, params: unknown[] = []): Promise<Row | undefined> {
  await client.query(`${TAG} savepoint pg2une_optional`);
  try {
    const row = await one(client, sql, params);
    await client.query(`${TAG} release savepoint pg2une_optional`);
    return row;
  } catch {
    await client.query(`${TAG} rollback to savepoint pg2une_optional`);
    return undefined;
  }
}

function num(v: unknown): number {
  const n = typeof v === "number" ? v : Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

function isoOf(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const d = v instanceof Date ? v : new Date(String(v));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function databaseStats(d: Row | null): DatabaseStats {
  if (!d) throw new Error("pg_stat_database has no row for the current database");
  return {
    xact_commit: num(d.xact_commit),
    xact_rollback: num(d.xact_rollback),
    blks_read: num(d.blks_read),
    blks_hit: num(d.blks_hit),
    tup_returned: num(d.tup_returned),
    tup_fetched: num(d.tup_fetched),
    tup_inserted: num(d.tup_inserted),
    tup_updated: num(d.tup_updated),
    tup_deleted: num(d.tup_deleted),
    temp_files: num(d.temp_files),
    temp_bytes: num(d.temp_bytes),
    deadlocks: num(d.deadlocks),
    session_time: numOrNull(d.session_time),
    active_time: numOrNull(d.active_time),
    idle_in_transaction_time: numOrNull(d.idle_in_transaction_time),
    stats_reset: isoOf(d.stats_reset),
  };
}

async function readActivity(client: pg.Client, databaseOid: number): Promise<Activity> {
  const r = await one(
    client,
    `${TAG} select
       count(*) filter (where datid = $1) as total,
       count(*) filter (where datid = $1 and state = 'active') as active,
       count(*) filter (where datid = $1 and state = 'idle') as idle,
       count(*) filter (where datid = $1 and state = 'idle in transaction') as idle_in_transaction,
       count(*) filter (where datid = $1 and state = 'idle in transaction (aborted)') as aborted,
       count(*) filter (where datid = $1 and wait_event_type = 'Lock') as waiting_on_locks,
       count(*) as server_total,
       extract(epoch from clock_timestamp() - min(xact_start) filter (where datid = $1)) as oldest
     from pg_stat_activity
     where backend_type = 'client backend' and pid <> pg_backend_pid()`,
    [databaseOid],
  );
  const total = num(r.total);
  const active = num(r.active);
  const idle = num(r.idle);
  const idleInTransaction = num(r.idle_in_transaction);
  const aborted = num(r.aborted);
  return {
    active,
    idle,
    idle_in_transaction: idleInTransaction,
    idle_in_transaction_aborted: aborted,
    other: Math.max(0, total - active - idle - idleInTransaction - aborted),
    waiting_on_locks: num(r.waiting_on_locks),
    total,
    server_total: num(r.server_total),
    oldest_transaction_seconds: r.oldest == null ? null : Math.max(0, num(r.oldest)),
  };
}

async function hasRelation(client: pg.Client, name: string): Promise<boolean> {
  const r = await one(client, `${TAG} select to_regclass($1) is not null as present`, [name]);
  return Boolean(r.present);
}

async function readCheckpoints(client: pg.Client): Promise<{ checkpoints: CheckpointStats; bgwriter: BgwriterStats }> {
  const b = (await one(client, `${TAG} select to_jsonb(b) as j from pg_stat_bgwriter b`)).j as Row;
  const bgwriter: BgwriterStats = {
    buffers_clean: num(b.buffers_clean),
    maxwritten_clean: num(b.maxwritten_clean),
    buffers_alloc: num(b.buffers_alloc),
    buffers_backend: numOrNull(b.buffers_backend),
    stats_reset: isoOf(b.stats_reset),
  };
  if (await hasRelation(client, "pg_catalog.pg_stat_checkpointer")) {
    const c = (await one(client, `${TAG} select to_jsonb(c) as j from pg_stat_checkpointer c`)).j as Row;
    return {
      bgwriter,
      checkpoints: {
        source: "pg_stat_checkpointer",
        timed: num(c.num_timed),
        requested: num(c.num_requested),
        write_time_ms: num(c.write_time),
        sync_time_ms: num(c.sync_time),
        buffers_written: num(c.buffers_written),
        stats_reset: isoOf(c.stats_reset),
      },
    };
  }
  return {
    bgwriter,
    checkpoints: {
      source: "pg_stat_bgwriter",
      timed: num(b.checkpoints_timed),
      requested: num(b.checkpoints_req),
      write_time_ms: num(b.checkpoint_write_time),
      sync_time_ms: num(b.checkpoint_sync_time),
      buffers_written: num(b.buffers_checkpoint),
      stats_reset: isoOf(b.stats_reset),
    },
  };
}

async function readWal(client: pg.Client): Promise<WalStats | null> {
  if (!(await hasRelation(client, "pg_catalog.pg_stat_wal"))) return null;
  const w = (await one(client, `${TAG} select to_jsonb(w) as j from pg_stat_wal w`)).j as Row;
  return {
    wal_records: num(w.wal_records),
    wal_fpi: num(w.wal_fpi),
    wal_bytes: num(w.wal_bytes),
    wal_buffers_full: num(w.wal_buffers_full),
    stats_reset: isoOf(w.stats_reset),
  };
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function preloaded(sharedPreloadLibraries: string): boolean {
  return sharedPreloadLibraries
    .split(",")
    .map((s) => s.trim().replace(/^["']|["']$/g, ""))
    .some((lib) => lib === "pg_stat_statements" || lib.endsWith("/pg_stat_statements"));
}

async function readStatements(client: pg.Client, databaseOid: number, database: string, topN: number): Promise<Statements> {
  const ext = await one(
    client,
    // pg_settings hides shared_preload_libraries from roles without pg_read_all_settings (null: unknown).
    `${TAG} select (select setting from pg_settings where name = 'shared_preload_libraries') as spl,
       (select e.extversion from pg_extension e where e.extname = 'pg_stat_statements') as version,
       (select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_stat_statements') as schema`,
  );
  const isPreloaded = ext.spl == null ? undefined : preloaded(String(ext.spl));
  if (isPreloaded === false) {
    return {
      available: false,
      reason: "not_preloaded",
      message: `pg_stat_statements is not loaded: it is missing from shared_preload_libraries${ext.version ? "" : ` and the extension is not created in database ${JSON.stringify(database)}`}`,
      instruction: PG_STAT_STATEMENTS_INSTRUCTION,
    };
  }
  if (ext.version == null) {
    return isPreloaded
      ? {
          available: false,
          reason: "extension_missing",
          message: `pg_stat_statements is loaded, but the extension is not created in database ${JSON.stringify(database)}`,
          instruction: `CREATE EXTENSION pg_stat_statements in database ${JSON.stringify(database)} (it is already in shared_preload_libraries)`,
        }
      : {
          available: false,
          reason: "extension_missing",
          message: `the pg_stat_statements extension is not created in database ${JSON.stringify(database)} (whether it is preloaded is hidden from this role)`,
          instruction: PG_STAT_STATEMENTS_INSTRUCTION,
        };
  }
  const schema = quoteIdent(String(ext.schema));
  await client.query(`${TAG} savepoint pg2une_statements`);
  try {
    const columns = new Set(
      (
        await client.query<{ attname: string }>(
          `${TAG} select attname from pg_attribute where attrelid = to_regclass($1) and attnum > 0 and not attisdropped`,
          [`${schema}.pg_stat_statements`],
        )
      ).rows.map((r) => r.attname),
    );
    const total = columns.has("total_exec_time") ? "total_exec_time" : "total_time";
    const stddev = columns.has("stddev_exec_time") ? "stddev_exec_time" : "stddev_time";
    const toplevel = columns.has("toplevel") ? "toplevel" : "null::bool";
    const topFilter = columns.has("toplevel") ? "toplevel" : "true";
    const since = columns.has("stats_since") ? "stats_since" : "null::timestamptz";
    const { rows } = await client.query<Row>(
      `${TAG} with s as (
         select queryid::text as queryid, userid::int8 as userid, ${toplevel} as toplevel, left(query, ${MAX_QUERY_TEXT_CHARS}) as query,
                calls, ${total} as total_ms, ${stddev} as stddev_ms, rows, shared_blks_hit, shared_blks_read,
                temp_blks_read, temp_blks_written, ${since} as stats_since
         from ${schema}.pg_stat_statements
         where dbid = $1 and queryid is not null and coalesce(query, '') not like '%${COLLECTOR_MARKER}%'
       )
       select s.*, count(*) over () as entries,
              coalesce(sum(calls) filter (where ${topFilter}) over (), 0) as total_calls,
              coalesce(sum(total_ms) filter (where ${topFilter}) over (), 0) as total_time
       from s order by total_ms desc limit $2`,
      [databaseOid, topN],
    );
    const info = (await hasRelation(client, `${schema}.pg_stat_statements_info`))
      ? await one(client, `${TAG} select dealloc, stats_reset from ${schema}.pg_stat_statements_info`)
      : undefined;
    await client.query(`${TAG} release savepoint pg2une_statements`);
    const first = rows[0];
    return {
      available: true,
      extension_version: String(ext.version),
      info: info ? { dealloc: num(info.dealloc), stats_reset: isoOf(info.stats_reset) } : null,
      totals: first
        ? { calls: num(first.total_calls), total_exec_time_ms: num(first.total_time), entries: num(first.entries) }
        : { calls: 0, total_exec_time_ms: 0, entries: 0 },
      top: rows.map(statementEntry),
    };
  } catch (err) {
    await client.query(`${TAG} rollback to savepoint pg2une_statements`);
    const message = (err as Error).message;
    if (/shared_preload_libraries/.test(message)) {
      return { available: false, reason: "not_preloaded", message: `pg_stat_statements is not loaded: ${message}`, instruction: PG_STAT_STATEMENTS_INSTRUCTION };
    }
    return {
      available: false,
      reason: "query_failed",
      message: `reading pg_stat_statements failed: ${message}`,
      instruction: "grant the collector's role pg_read_all_stats (or connect as a superuser), then check the PostgreSQL log",
    };
  }
}

function statementEntry(r: Row): StatementEntry {
  return {
    queryid: String(r.queryid),
    userid: num(r.userid),
    toplevel: r.toplevel == null ? null : Boolean(r.toplevel),
    query: r.query == null ? null : String(r.query),
    calls: num(r.calls),
    total_exec_time_ms: Math.max(0, num(r.total_ms)),
    stddev_exec_time_ms: Math.max(0, num(r.stddev_ms)),
    rows: num(r.rows),
    shared_blks_hit: num(r.shared_blks_hit),
    shared_blks_read: num(r.shared_blks_read),
    temp_blks_read: num(r.temp_blks_read),
    temp_blks_written: num(r.temp_blks_written),
    stats_since: isoOf(r.stats_since),
  };
}

async function readSettings(client: pg.Client, names: readonly string[]): Promise<Record<string, string>> {
  if (names.length === 0) return {};
  const { rows } = await client.query<{ name: string; value: string }>(
    `${TAG} select name, current_setting(name) as value from pg_settings where name = any($1::text[]) order by name`,
    [[...names]],
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.value]));
}
