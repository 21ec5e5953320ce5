/**
 * Planner cost of one collected query, the same way before and after hypothetical indexes.
 *
 * pg_stat_statements keeps queries normalized ($1 for every constant), so most cannot be
 * EXPLAINed as they are:
 *   - PostgreSQL 16+: EXPLAIN (GENERIC_PLAN) plans them with unknown parameters.
 *   - before 16: PREPARE the statement (the server infers the parameter types), then EXPLAIN
 *     EXECUTE it with representative values from pg_stats — the median histogram bound of the
 *     column the parameter is compared with, else its least common MCV (queries that filter a
 *     low-cardinality column usually look for the rare values), LIMIT 100, OFFSET 0, else NULL —
 *     with plan_cache_mode = force_custom_plan so every EXPLAIN replans (a cached generic plan
 *     would not see hypothetical indexes created later).
 *   - before 16, when a parameter has no such value (it is compared with an expression, or a
 *     view's column): NULL would let the planner fold `x = NULL` to false and report a cost of
 *     0, so the statement is planned generically instead (plan_cache_mode = force_generic_plan,
 *     re-prepared before every EXPLAIN for the same reason as above).
 * The method used is reported per query.
 */
import type { ParameterValue, PlanMethod, QualifiedTable, ResolvedParameter } from "../../src/core/indexes";
import { inSavepoint, type Session } from "./session";

/** What LIMIT $n stands for when planning with values: a typical page. */
export const LIMIT_PARAMETER_VALUE = "100";
export const OFFSET_PARAMETER_VALUE = "0";

export interface PlannedCost {
  cost: number;
  indexNames: string[];
  plan: unknown;
}

export interface PreparedQuery {
  sql: string;
  method: PlanMethod;
  parameters: ParameterValue[];
  /** The prepared statement's name (prepared method only). */
  statementName: string | null;
  /** EXPLAIN EXECUTE argument list, literals escaped by the driver. */
  executeArgs: string | null;
}

let statementSeq = 0;

async function representativeValue(s: Session, table: QualifiedTable, column: string): Promise<{ value: string; source: ParameterValue["source"] } | null> {
  try {
    const { rows } = await s.query<{ hist: string[] | null; mcv: string[] | null }>(
      `select histogram_bounds::text::text[] as hist, most_common_vals::text::text[] as mcv
       from pg_stats where schemaname = $1 and tablename = $2 and attname = $3 limit 1`,
      [table.schema, table.name, column],
    );
    const r = rows[0];
    if (r?.hist?.length) return { value: r.hist[Math.floor(r.hist.length / 2)]!, source: "histogram_median" };
    if (r?.mcv?.length) return { value: r.mcv[r.mcv.length - 1]!, source: "least_common_value" };
  } catch {
    // element types whose text form does not round-trip through text[]: fall back to NULL
  }
  return null;
}

/**
 * Readies a query for costing on this session. `parameterCount` and `parameters` come from the
 * parse tree (which $n is compared with which column). `withValues` prepares with representative
 * values even on 16+ (to execute it, e.g. for measuring hints).
 */
export async function prepareQuery(
  s: Session,
  sql: string,
  serverVersionNum: number,
  parameterCount: number,
  parameters: readonly ResolvedParameter[],
  options: { withValues?: boolean } = {},
): Promise<PreparedQuery> {
  if (parameterCount === 0) return { sql, method: "plain", parameters: [], statementName: null, executeArgs: null };
  if (serverVersionNum >= 160_000 && !options.withValues) return { sql, method: "generic_plan", parameters: [], statementName: null, executeArgs: null };

  const statementName = `pg2une_q${++statementSeq}`;
  await inSavepoint(s, () => s.query(`PREPARE ${statementName} AS ${sql}`));
  const values: ParameterValue[] = [];
  for (let n = 1; n <= parameterCount; n++) {
    const p = parameters.find((x) => x.number === n);
    let value: ParameterValue = { number: n, value: null, source: "null", column: p?.column ?? null };
    if (p?.role === "limit") value = { ...value, value: LIMIT_PARAMETER_VALUE, source: "limit_default" };
    else if (p?.role === "offset") value = { ...value, value: OFFSET_PARAMETER_VALUE, source: "offset_default" };
    else if (p?.role === "compare" && p.table && p.column) {
      const rep = await representativeValue(s, p.table, p.column);
      if (rep) value = { ...value, value: rep.value, source: rep.source };
    }
    values.push(value);
  }
  const executeArgs = values.map((v) => (v.value === null ? "NULL" : s.escapeLiteral(v.value))).join(", ");
  const method: PlanMethod = values.some((v) => v.source === "null") && !options.withValues ? "prepared_generic_plan" : "prepared_representative_values";
  return { sql, method, parameters: values, statementName, executeArgs };
}

/** EXPLAIN text for a prepared query (no ANALYZE: nothing is executed). */
export function explainSql(q: PreparedQuery, options = "FORMAT JSON"): string {
  switch (q.method) {
    case "plain":
      return `EXPLAIN (${options}) ${q.sql}`;
    case "generic_plan":
      return `EXPLAIN (GENERIC_PLAN, ${options}) ${q.sql}`;
    case "prepared_representative_values":
    case "prepared_generic_plan":
      return `EXPLAIN (${options}) EXECUTE ${q.statementName}(${q.executeArgs})`;
  }
}

/** The session must be inside a transaction (each EXPLAIN runs in a savepoint). */
export async function planCost(s: Session, q: PreparedQuery): Promise<PlannedCost> {
  const { rows } = await inSavepoint(s, async () => {
    if (q.method !== "prepared_generic_plan") return s.query<{ "QUERY PLAN": Array<{ Plan: Record<string, unknown> }> }>(explainSql(q));
    await s.query(`DEALLOCATE ${q.statementName}`);
    await s.query(`PREPARE ${q.statementName} AS ${q.sql}`);
    await s.query("select set_config('plan_cache_mode', 'force_generic_plan', true)");
    try {
      return await s.query<{ "QUERY PLAN": Array<{ Plan: Record<string, unknown> }> }>(explainSql(q));
    } finally {
      await s.query("select set_config('plan_cache_mode', 'force_custom_plan', true)");
    }
  });
  const root = rows[0]!["QUERY PLAN"][0]!.Plan;
  return { cost: Number(root["Total Cost"]), indexNames: [...new Set(findIndexNames(root))], plan: root };
}

function findIndexNames(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(findIndexNames);
  if (node === null || typeof node !== "object") return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(node)) {
    if (k === "Index Name" && typeof v === "string") out.push(v);
    else out.push(...findIndexNames(v));
  }
  return out;
}

export async function deallocate(s: Session, q: PreparedQuery): Promise<void> {
  if (q.statementName) await s.query(`DEALLOCATE ${q.statementName}`).catch(() => undefined);
}
