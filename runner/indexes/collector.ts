/**
 * Collects the queries worth an index from pg_stat_statements: the slowest by mean time and the
 * heaviest by total time (thresholds topByMeanTime / topByTotalTime / minCalls), top-level
 * statements of the current database only.
 */
import type { IndexAdvisorThresholds } from "../../src/core/indexes";
import { IndexAdvisorError } from "./errors";
import { errorMessage, type Session } from "./session";

export interface CollectedQuery {
  queryId: string;
  query: string;
  calls: number;
  meanMs: number;
  totalMs: number;
}

/**
 * Utility statements (transaction control, DDL, maintenance): no plan an index could change.
 * Queries on catalogs only (monitoring, pg2une's own) are recognized later, from the parse tree.
 */
const UTILITY = /^\s*(begin|commit|rollback|end|start|savepoint|release|set|reset|show|explain|prepare|execute|deallocate|discard|vacuum|analyze|checkpoint|create|alter|drop|comment|grant|revoke|copy|listen|notify|lock|truncate|do|call)\b/i;

export async function requirePgStatStatements(s: Session): Promise<void> {
  const { rows } = await s.query<{ installed: boolean }>("select exists (select 1 from pg_extension where extname = 'pg_stat_statements') as installed");
  if (!rows[0]!.installed) {
    throw new IndexAdvisorError(
      "pg_stat_statements_missing",
      "pg_stat_statements is not installed in this database: add it to shared_preload_libraries (restart), then CREATE EXTENSION pg_stat_statements",
    );
  }
  // Reading it is the one check every role may make (shared_preload_libraries is superuser-only).
  try {
    await s.query("select 1 from pg_stat_statements limit 1");
  } catch (err) {
    throw new IndexAdvisorError(
      "pg_stat_statements_missing",
      `pg_stat_statements cannot be read (${errorMessage(err)}): add it to shared_preload_libraries and restart PostgreSQL`,
    );
  }
}

export async function collectQueries(
  s: Session,
  t: Pick<IndexAdvisorThresholds, "minCalls" | "topByMeanTime" | "topByTotalTime">,
  queryIds?: readonly string[],
): Promise<CollectedQuery[]> {
  await requirePgStatStatements(s);
  const { rows } = await s.query<{ query_id: string; query: string; calls: string; mean_ms: number; total_ms: number }>(
    `with s as (
       select queryid::text as query_id, min(query) as query, sum(calls) as calls,
              sum(total_exec_time) as total_ms, sum(total_exec_time) / nullif(sum(calls), 0) as mean_ms
       from pg_stat_statements
       where dbid = (select oid from pg_database where datname = current_database())
         and toplevel and queryid is not null
       group by queryid
     ), ranked as (
       select *, row_number() over (order by mean_ms desc nulls last) as by_mean,
                 row_number() over (order by total_ms desc) as by_total
       from s where calls >= $1
     )
     select query_id, query, calls, mean_ms, total_ms from ranked
     where ($4::text[] is not null and query_id = any($4::text[]))
        or ($4::text[] is null and (by_mean <= $2 or by_total <= $3))
     order by total_ms desc`,
    [t.minCalls, t.topByMeanTime, t.topByTotalTime, queryIds ? [...queryIds] : null],
  );
  return rows
    .filter((r) => !UTILITY.test(r.query))
    .map((r) => ({ queryId: r.query_id, query: r.query, calls: Number(r.calls), meanMs: Number(r.mean_ms ?? 0), totalMs: Number(r.total_ms) }));
}
