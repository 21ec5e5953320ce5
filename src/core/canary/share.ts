/**
 * The canary's achieved share of read traffic, measured (not assumed) from pg_stat_statements
 * counters taken on both nodes at the start and end of a window. One definition, used by the
 * runner after every routing change and by anything that reports the split.
 *
 * Definition: the statements counted are those the canary executed in the window (a hot standby
 * only runs reads, so this is the set of read statements the read-only entry can send to either
 * node); for each, the calls on the canary and on the primary are summed, and
 * share = canary / (canary + primary). The same statement arriving through the read-write entry
 * also counts for the primary; the share is the canary's part of all executions of those reads.
 * pg2une's own statements (marked with {@link PG2UNE_SQL_MARKER}) are left out in the snapshot.
 *
 * @example
 *   const share = computeCanaryShare({ primaryBefore, primaryAfter, canaryBefore, canaryAfter });
 *   if (share.share !== null) console.log(`${(share.share * 100).toFixed(1)} % on the canary`);
 */
import { z } from "zod";

/** Every statement pg2une sends to a target starts with this comment, so measurements skip it. */
export const PG2UNE_SQL_MARKER = "/* pg2une */";

/**
 * Cumulative calls per statement (queryid) in one database, pg2une's own statements excluded.
 * `$1` is the database name. Rows with the same queryid (other users, nested levels) are summed.
 */
export const STATEMENT_CALLS_QUERY = `${PG2UNE_SQL_MARKER} select s.queryid::text as queryid, sum(s.calls)::float8 as calls
  from pg_stat_statements s
  where s.queryid is not null
    and s.dbid = (select oid from pg_database where datname = $1)
    and s.query not like '/* pg2une */%'
  group by s.queryid`;

export const StatementCallsRowSchema = z.object({
  queryid: z.string().min(1),
  calls: z.coerce.number().nonnegative(),
});

export type StatementCallsRow = z.output<typeof StatementCallsRowSchema>;

export interface ShareWindow {
  primaryBefore: readonly StatementCallsRow[];
  primaryAfter: readonly StatementCallsRow[];
  canaryBefore: readonly StatementCallsRow[];
  canaryAfter: readonly StatementCallsRow[];
}

export interface CanaryShare {
  /** canary / (canary + primary) in 0..1; null when neither node ran anything in the window. */
  share: number | null;
  canaryCalls: number;
  primaryCalls: number;
  /** Distinct statements counted. */
  statements: number;
  /** A counter went backwards (stats reset, restart): that node's window counts start at 0. */
  counterReset: { primary: boolean; canary: boolean };
}

interface Deltas {
  byQuery: Map<string, number>;
  reset: boolean;
}

/**
 * Per-statement increase. A counter that went down was reset (or the entry was evicted and
 * re-added), so the calls since then are the "after" value; a statement gone from "after" ran
 * zero times as far as we can tell. Never negative.
 */
export function statementDeltas(before: readonly StatementCallsRow[], after: readonly StatementCallsRow[]): Deltas {
  const previous = new Map(before.map((r) => [r.queryid, r.calls]));
  const byQuery = new Map<string, number>();
  let reset = false;
  for (const row of after) {
    const was = previous.get(row.queryid) ?? 0;
    const delta = row.calls >= was ? row.calls - was : row.calls;
    if (row.calls < was) reset = true;
    if (delta > 0) byQuery.set(row.queryid, (byQuery.get(row.queryid) ?? 0) + delta);
  }
  return { byQuery, reset };
}

export function computeCanaryShare(window: ShareWindow): CanaryShare {
  const primary = statementDeltas(window.primaryBefore, window.primaryAfter);
  const canary = statementDeltas(window.canaryBefore, window.canaryAfter);
  const counterReset = { primary: primary.reset, canary: canary.reset };

  let canaryCalls = 0;
  let primaryCalls = 0;
  for (const [queryid, calls] of canary.byQuery) {
    canaryCalls += calls;
    primaryCalls += primary.byQuery.get(queryid) ?? 0;
  }
  if (canary.byQuery.size === 0) {
    // The canary served nothing: its share is 0 if the primary served anything at all.
    for (const calls of primary.byQuery.values()) primaryCalls += calls;
    return { share: primaryCalls > 0 ? 0 : null, canaryCalls: 0, primaryCalls, statements: primary.byQuery.size, counterReset };
  }
  return { share: canaryCalls / (canaryCalls + primaryCalls), canaryCalls, primaryCalls, statements: canary.byQuery.size, counterReset };
}
