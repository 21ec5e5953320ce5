/**
 * pg_hint_plan alternatives for a query and the choice among them. The runner measures each
 * hinted plan (EXPLAIN ANALYZE of the SELECT, read-only); this proposes hints and picks one.
 *
 * Why measured and not planner cost: a hint only removes options from the planner, so a hinted
 * plan's *estimated* cost is never below the unhinted one; hints pay off exactly when the
 * estimates are wrong, which only execution shows.
 *
 * @example
 *   hintAlternatives([{ relation: 0, refName: "o" }, { relation: 1, refName: "c" }]);
 *   // ["IndexScan(o)", "SeqScan(o)", "BitmapScan(o)", …, "HashJoin(o c)", "NestLoop(o c)", "MergeJoin(o c)"]
 */
import type { RelationOccurrence } from "./query-shape";

export const SCAN_HINTS = ["IndexScan", "BitmapScan", "SeqScan"] as const;
export const JOIN_HINTS = ["HashJoin", "NestLoop", "MergeJoin"] as const;

/** A hint names relations by alias; pg_hint_plan wants them as plain or double-quoted words. */
function hintName(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

export function hintAlternatives(occurrences: readonly RelationOccurrence[], maxJoinPairs = 6): string[] {
  const names = [...new Set(occurrences.map((o) => o.refName))];
  const hints: string[] = [];
  for (const n of names) for (const h of SCAN_HINTS) hints.push(`${h}(${hintName(n)})`);
  let pairs = 0;
  for (let i = 0; i < names.length && pairs < maxJoinPairs; i++) {
    for (let j = i + 1; j < names.length && pairs < maxJoinPairs; j++, pairs++) {
      for (const h of JOIN_HINTS) hints.push(`${h}(${hintName(names[i]!)} ${hintName(names[j]!)})`);
    }
  }
  return hints;
}

/** The comment pg_hint_plan reads, placed before the statement. */
export function hintComment(hint: string): string {
  if (hint.includes("*/")) throw new Error("a hint cannot contain */");
  return `/*+ ${hint} */ `;
}

export interface HintTrial {
  hint: string | null;
  cost: number;
  actualMs: number | null;
}

export interface HintChoice {
  hint: string;
  currentMs: number;
  hintedMs: number;
  improvementPct: number;
}

/** The fastest hinted plan, if it beats the current plan (hint null) by the margin. */
export function chooseHint(trials: readonly HintTrial[], minImprovementPct: number): HintChoice | null {
  const current = trials.find((t) => t.hint === null);
  if (!current || current.actualMs === null || current.actualMs <= 0) return null;
  const best = trials
    .filter((t): t is HintTrial & { hint: string; actualMs: number } => t.hint !== null && t.actualMs !== null)
    .sort((a, b) => a.actualMs - b.actualMs)[0];
  if (!best) return null;
  const improvementPct = ((current.actualMs - best.actualMs) / current.actualMs) * 100;
  if (improvementPct < minImprovementPct) return null;
  return { hint: best.hint, currentMs: current.actualMs, hintedMs: best.actualMs, improvementPct };
}
