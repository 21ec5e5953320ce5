/**
 * The window mean execution time of queries, read from pg_stat_statements deltas: read the
 * cumulative counters, wait, read again, subtract (src/core/indexes/measurement.ts).
 *
 * The metrics pipeline (src/core/metrics, issue 4) derives the same per-query window means
 * from its stored samples; once it is on main this module should read from it instead.
 */
import { statementWindow, type StatementCounters, type WindowStats } from "../../src/core/indexes";
import type { Session } from "./session";

export async function readStatementCounters(s: Session, queryIds: readonly string[]): Promise<Map<string, StatementCounters>> {
  const { rows } = await s.query<{ query_id: string; calls: number; total: number; sumsq: number }>(
    `select queryid::text as query_id, sum(calls)::float8 as calls, sum(total_exec_time)::float8 as total,
            sum((stddev_exec_time ^ 2 + mean_exec_time ^ 2) * calls)::float8 as sumsq
     from pg_stat_statements
     where dbid = (select oid from pg_database where datname = current_database())
       and toplevel and queryid::text = any($1::text[])
     group by queryid`,
    [[...queryIds]],
  );
  const out = new Map<string, StatementCounters>();
  for (const r of rows) {
    const mean = r.calls > 0 ? r.total / r.calls : 0;
    const variance = r.calls > 0 ? r.sumsq / r.calls - mean ** 2 : 0;
    out.set(r.query_id, { queryId: r.query_id, calls: r.calls, totalExecMs: r.total, stddevExecMs: Math.sqrt(Math.max(0, variance)) });
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Per-query window stats over the next `ms` milliseconds (real traffic must run meanwhile). */
export async function measureWindow(s: Session, queryIds: readonly string[], ms: number): Promise<Map<string, WindowStats | null>> {
  const start = await readStatementCounters(s, queryIds);
  await sleep(ms);
  const end = await readStatementCounters(s, queryIds);
  return new Map(queryIds.map((id) => [id, statementWindow(start.get(id), end.get(id))]));
}
