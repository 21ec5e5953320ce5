/**
 * pg_hint_plan: when the target has it, try scan and join hints on a query no index serves and
 * recommend the fastest hinted plan if it beats the current one by minHintImprovementPct.
 *
 * Measured, not estimated (see src/core/indexes/hints.ts): each plan runs once under
 * EXPLAIN (ANALYZE) — SELECTs only, inside a READ ONLY transaction that is rolled back, with a
 * statement_timeout — using the same representative parameter values as the what-if costing.
 *
 * NOT TESTED against a real pg_hint_plan here: Debian bookworm ships no package for it (the nix
 * microVM images do). The path that is tested is its absence, which the report states.
 */
import { chooseHint, hintAlternatives, hintComment, type QueryShape } from "../../src/core/indexes";
import type { z } from "zod";
import type { HintAdviceSchema } from "../../src/core/indexes";
import type { PreparedQuery } from "./planner";
import { errorMessage, inSavepoint, isPreloaded, type Session } from "./session";

export type HintAdvice = z.infer<typeof HintAdviceSchema>;

export interface HintPlanPresence {
  available: boolean;
  note: string;
}

export async function hintPlanPresence(s: Session): Promise<HintPlanPresence> {
  const { rows } = await s.query<{ available: boolean }>("select exists (select 1 from pg_available_extensions where name = 'pg_hint_plan') as available");
  const available = rows[0]!.available;
  const preloaded = (await isPreloaded(s, "pg_hint_plan")) === true;
  if (!available && !preloaded) {
    return { available: false, note: "pg_hint_plan is not installed on this server: no hint recommendations (Debian bookworm has no package; the nix microVM images include it)" };
  }
  if (!preloaded) {
    try {
      await s.query("LOAD 'pg_hint_plan'");
    } catch (err) {
      return { available: false, note: `pg_hint_plan is installed but could not be loaded in this session (${errorMessage(err)}); add it to session_preload_libraries` };
    }
  }
  return { available: true, note: "pg_hint_plan loaded: hinted plans are measured for queries no index serves" };
}

async function runHinted(s: Session, q: PreparedQuery, hint: string | null, n: number): Promise<{ cost: number; actualMs: number | null }> {
  const prefix = hint ? hintComment(hint) : "";
  let sql: string;
  if (q.method === "prepared_representative_values") {
    // Executing needs values; the hint goes into the prepared text, where pg_hint_plan reads it.
    const name = `pg2une_hint_${n}`;
    await s.query(`PREPARE ${name} AS ${prefix}${q.sql}`);
    sql = `${prefix}EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE ${name}(${q.executeArgs ?? ""})`;
  } else {
    // pg_hint_plan reads the hint comment at the very start of the statement.
    sql = `${prefix}EXPLAIN (ANALYZE, FORMAT JSON) ${q.sql}`;
  }
  const { rows } = await s.query<{ "QUERY PLAN": Array<{ Plan: Record<string, unknown>; "Execution Time"?: number }> }>(sql);
  const top = rows[0]!["QUERY PLAN"][0]!;
  return { cost: Number(top.Plan["Total Cost"]), actualMs: typeof top["Execution Time"] === "number" ? top["Execution Time"] : null };
}

/**
 * Measures the current plan and each hinted alternative. The caller holds the session inside a
 * BEGIN READ ONLY transaction it rolls back, and passes a query prepared with values
 * (prepareQuery(..., { withValues: true })): a generic plan cannot be executed.
 */
export async function tryHints(s: Session, queryId: string, q: PreparedQuery, shape: QueryShape, minImprovementPct: number): Promise<HintAdvice> {
  if (shape.kind !== "select") {
    return { queryId, hint: null, currentMs: null, hintedMs: null, trials: [], reason: "hints are only measured for SELECT statements (the rest would write)" };
  }
  if (q.method === "generic_plan") throw new Error("tryHints needs a query prepared with values, not a generic plan");
  const trials: HintAdvice["trials"] = [];
  const hints: Array<string | null> = [null, ...hintAlternatives(shape.occurrences)];
  let n = 0;
  for (const hint of hints) {
    try {
      const r = await inSavepoint(s, () => runHinted(s, q, hint, ++n));
      trials.push({ hint, ...r });
    } catch (err) {
      trials.push({ hint, cost: Number.NaN, actualMs: null });
      if (hint === null) return { queryId, hint: null, currentMs: null, hintedMs: null, trials: [], reason: `the current plan could not be measured: ${errorMessage(err)}` };
    }
  }
  const valid = trials.filter((t) => Number.isFinite(t.cost));
  const choice = chooseHint(valid, minImprovementPct);
  const current = valid.find((t) => t.hint === null)?.actualMs ?? null;
  if (!choice) {
    return { queryId, hint: null, currentMs: current, hintedMs: null, trials: valid, reason: `no hint beat the current plan by ${minImprovementPct} %` };
  }
  return {
    queryId,
    hint: choice.hint,
    currentMs: choice.currentMs,
    hintedMs: choice.hintedMs,
    trials: valid,
    reason: `/*+ ${choice.hint} */ measured ${choice.hintedMs.toFixed(2)} ms vs ${choice.currentMs.toFixed(2)} ms (−${choice.improvementPct.toFixed(0)} %)`,
  };
}
