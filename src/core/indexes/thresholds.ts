/**
 * Every number the index advisor decides by, with its default and why (dexter style: each has a
 * name and a flag). Parse a partial object to get the defaults filled in:
 *
 * @example
 *   const t = IndexAdvisorThresholdsSchema.parse({ minCalls: 100 });
 *   t.minCostSavingsPct; // 50
 */
import { z } from "zod";

export const IndexAdvisorThresholdsSchema = z.object({
  // ── which queries are looked at ─────────────────────────────────────────────────────────────
  /** Ignore statements called fewer times than this (rare queries rarely pay for an index). */
  minCalls: z.number().int().min(0).default(10),
  /** Take this many statements with the highest mean execution time… */
  topByMeanTime: z.number().int().min(0).max(1000).default(20),
  /** …plus this many with the highest total execution time (the union of both lists). */
  topByTotalTime: z.number().int().min(0).max(1000).default(20),
  /** A query whose planner cost is below this is cheap already (dexter: high_cost? ≥ 100). */
  minInitialCost: z.number().min(0).default(100),

  // ── what-if costing ────────────────────────────────────────────────────────────────────────
  /** Dexter's rule: an index must cut the query's planner cost by at least this percentage. */
  minCostSavingsPct: z.number().min(0).max(100).default(50),
  /**
   * A two-column index is only worth it when the best single-column plan still costs more than
   * this and the second column cuts that cost by minCostSavingsPct again (dexter's bar).
   */
  multiColumnMinCost: z.number().min(0).default(100),
  /** Columns per table per query considered for two-column candidates (n·(n-1) pairs). */
  maxColumnsPerTable: z.number().int().min(1).max(32).default(6),
  /** Indexes recommended per run at most (the greedy cover stops there). */
  maxIndexes: z.number().int().min(1).max(100).default(5),
  /** Per-EXPLAIN statement_timeout inside the what-if session. */
  explainTimeoutMs: z.number().int().min(100).default(10_000),

  // ── write cost ─────────────────────────────────────────────────────────────────────────────
  /**
   * A table is write-heavy when rows written (n_tup_ins+upd+del) per scan (seq_scan+idx_scan)
   * exceed this, counted since the statistics were last reset. Each index slows every write.
   */
  writeHeavyRatio: z.number().min(0).default(1),
  /** skip: no index on write-heavy tables; warn: recommend, flagged. */
  writeHeavyPolicy: z.enum(["skip", "warn"]).default("skip"),

  // ── apply and measure ──────────────────────────────────────────────────────────────────────
  /** Measured window mean exec time must drop by at least this much, or the index is dropped. */
  minMeasuredImprovementPct: z.number().min(0).max(100).default(20),
  /** Length of the before and the after measurement window. */
  measureWindowMs: z.number().int().min(100).default(60_000),
  /** Fewer calls than this in a window and the effect counts as not measured. */
  minCallsPerWindow: z.number().int().min(1).default(20),
  /** An index whose effect could not be measured (no traffic) is dropped unless this is set. */
  keepUnmeasured: z.boolean().default(false),
  /** lock_timeout for CREATE/DROP INDEX CONCURRENTLY (waits for locks, never blocks writers long). */
  lockTimeoutMs: z.number().int().min(0).default(5_000),
  /** statement_timeout for one index build. */
  buildTimeoutMs: z.number().int().min(0).default(3_600_000),

  // ── pg_hint_plan ───────────────────────────────────────────────────────────────────────────
  /** A hinted plan must be this much faster (measured) than the current plan to be recommended. */
  minHintImprovementPct: z.number().min(0).max(100).default(20),
}).strict();

export type IndexAdvisorThresholds = z.output<typeof IndexAdvisorThresholdsSchema>;
export type IndexAdvisorThresholdsInput = z.input<typeof IndexAdvisorThresholdsSchema>;

export const DEFAULT_THRESHOLDS: IndexAdvisorThresholds = IndexAdvisorThresholdsSchema.parse({});
