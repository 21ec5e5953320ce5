/**
 * Applying advice (runner command create_index): for each index, measure its queries' window
 * mean, CREATE INDEX CONCURRENTLY (lock_timeout, statement_timeout), measure again, and keep it
 * only if the mean dropped by minMeasuredImprovementPct; otherwise DROP INDEX CONCURRENTLY.
 * A failed concurrent build leaves an INVALID index behind; it is dropped at once.
 *
 * Every index touched is returned as a record (the shape of the managed_indexes table), so the
 * run can store it and pg2une can list and remove what it made.
 *
 * @example
 *   const { records } = await createIndexes(url, { indexes: [{ schema: "public", table: "orders", columns: ["customer_id"], queryIds: ["-42"] }] });
 *   records[0].status; // "kept" | "dropped" | "failed"
 */
import {
  CreateIndexPayloadSchema,
  IndexAdvisorThresholdsSchema,
  combineWindows,
  createIndexDdl,
  indexNameFor,
  judgeIndex,
  type CreateIndexPayload,
  type IndexAdvisorThresholds,
  type IndexSpec,
  type ManagedIndexRecord,
  type WindowStats,
} from "../../src/core/indexes";
import { dropManagedIndex } from "./managed";
import { measureWindow } from "./measure";
import { errorMessage, withSession, type IndexTarget, type Session } from "./session";

export type CreatorLog = (line: string) => void;

interface IndexState {
  exists: boolean;
  valid: boolean;
}

async function indexState(s: Session, schema: string, name: string): Promise<IndexState> {
  const { rows } = await s.query<{ valid: boolean }>(
    `select i.indisvalid as valid from pg_class c join pg_namespace n on n.oid = c.relnamespace
     join pg_index i on i.indexrelid = c.oid where n.nspname = $1 and c.relname = $2`,
    [schema, name],
  );
  return rows[0] ? { exists: true, valid: rows[0].valid } : { exists: false, valid: false };
}

async function windowMean(s: Session, queryIds: readonly string[], ms: number): Promise<WindowStats | null> {
  return combineWindows([...(await measureWindow(s, queryIds, ms)).values()]);
}

export async function createIndexes(target: IndexTarget, payloadInput: CreateIndexPayload, log: CreatorLog = () => undefined): Promise<{ records: ManagedIndexRecord[] }> {
  const payload = CreateIndexPayloadSchema.parse(payloadInput);
  const t = IndexAdvisorThresholdsSchema.parse(payload.thresholds);
  // builder runs the DDL (CONCURRENTLY wants a session with no open transaction);
  // watcher reads pg_stat_statements meanwhile.
  return withSession(target, (builder) =>
    withSession(target, async (watcher) => {
      const records: ManagedIndexRecord[] = [];
      for (const spec of payload.indexes) records.push(await createOne(builder, watcher, spec, t, log));
      return { records };
    }),
  );
}

async function createOne(builder: Session, watcher: Session, spec: IndexSpec, t: IndexAdvisorThresholds, log: CreatorLog): Promise<ManagedIndexRecord> {
  const name = indexNameFor(spec.table, spec.columns, spec.schema);
  const ddl = createIndexDdl({ schema: spec.schema, table: spec.table, columns: spec.columns, name });
  const record: ManagedIndexRecord = {
    indexName: name,
    schema: spec.schema,
    tableName: spec.table,
    columns: spec.columns,
    ddl,
    status: "failed",
    measured: { queryIds: spec.queryIds, buildMs: null, before: null, after: null, verdict: null, improvementPct: null, reason: "" },
    createdAt: null,
    droppedAt: null,
  };

  const state = await indexState(builder, spec.schema, name);
  if (state.exists && state.valid) {
    record.status = "kept";
    record.measured.reason = "already exists (created by an earlier run); left as it is";
    return record;
  }
  if (state.exists) {
    log(`Dropping invalid leftover index ${spec.schema}.${name}`);
    await dropManagedIndex(builder, { schema: spec.schema, name }, t.lockTimeoutMs);
  }

  log(`Measuring ${spec.queryIds.length} query(ies) for ${t.measureWindowMs} ms before ${name}`);
  record.measured.before = await windowMean(watcher, spec.queryIds, t.measureWindowMs);

  log(`Creating index: ${ddl}`);
  const started = performance.now();
  // The runner's connection carries the command's remaining time as statement_timeout: the
  // build gets the shorter of that and buildTimeoutMs, and the old value back afterwards.
  const { rows: prior } = await builder.query<{ ms: string }>("select setting as ms from pg_settings where name = 'statement_timeout'");
  const priorMs = Number(prior[0]?.ms ?? 0);
  const buildMs = priorMs > 0 ? Math.min(priorMs, t.buildTimeoutMs || priorMs) : t.buildTimeoutMs;
  try {
    await builder.query("select set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)", [String(t.lockTimeoutMs), String(buildMs)]);
    await builder.query(ddl);
    record.measured.buildMs = performance.now() - started;
    record.createdAt = new Date().toISOString();
    record.status = "created";
    log(`Index created: ${Math.round(record.measured.buildMs)} ms`);
  } catch (err) {
    record.measured.reason = `CREATE INDEX CONCURRENTLY failed: ${errorMessage(err)}`;
    log(record.measured.reason);
    const leftover = await indexState(builder, spec.schema, name).catch(() => ({ exists: false, valid: false }));
    if (leftover.exists) {
      await dropManagedIndex(builder, { schema: spec.schema, name }, t.lockTimeoutMs).catch(() => undefined);
      record.measured.reason += "; the invalid index it left was dropped";
      record.droppedAt = new Date().toISOString();
    }
    return record;
  } finally {
    await builder.query("select set_config('statement_timeout', $1, false)", [String(priorMs)]).catch(() => undefined);
  }

  log(`Measuring for ${t.measureWindowMs} ms after ${name}`);
  record.measured.after = await windowMean(watcher, spec.queryIds, t.measureWindowMs);
  const judgement = judgeIndex(record.measured.before, record.measured.after, t);
  record.measured.verdict = judgement.verdict;
  record.measured.improvementPct = judgement.improvementPct;
  record.measured.reason = judgement.reason;
  if (judgement.keep) {
    record.status = "kept";
    log(`Keeping ${name}: ${judgement.reason}`);
    return record;
  }
  log(`Dropping ${name}: ${judgement.reason}`);
  try {
    await dropManagedIndex(builder, { schema: spec.schema, name }, t.lockTimeoutMs);
    record.status = "dropped";
    record.droppedAt = new Date().toISOString();
  } catch (err) {
    record.status = "failed";
    record.measured.reason += `; DROP INDEX CONCURRENTLY failed (${errorMessage(err)}): the index is still there, drop it with pg2une advise-indexes --drop-all-pg2une`;
  }
  return record;
}
