/**
 * collect: one raw metrics sample (cumulative counters, src/core/metrics/sample.ts) from the
 * target's primary, or from the canary while one runs. Read-only: it never waits behind a
 * mutating command (the runner's per-target queue is for mutating commands only), so a long
 * create_index does not leave a hole in the metrics.
 *
 * @example
 *   const { result } = await runner.send("collect", { target: "default" });
 *   await storeSample(db, "default", result, "runner");
 */
import { z } from "zod";
import { MAX_TOP_STATEMENTS, RawSampleSchema, TargetNameSchema } from "../../core/metrics";
import { defineCommand } from "./define";

/** The name written into the sample when the sender gives none (the Worker's default target name). */
export const DEFAULT_COLLECT_TARGET = "default";

export const CollectNodeSchema = z.enum(["primary", "canary"]);
export type CollectNode = z.output<typeof CollectNodeSchema>;

export const collectCommand = defineCommand({
  type: "collect",
  summary: "one raw metrics sample (pg_stat_database, pg_stat_activity, pg_stat_statements, checkpoints, WAL, knob values)",
  mutating: false,
  // collectSample runs ~10 short catalog queries, each capped at 10 s by statement_timeout.
  timeoutMs: 20_000,
  // A sample can reach a few hundred kB (500 statements' text); collected every minute, a week of
  // durable journal entries would be gigabytes. Repeats come from the sender's own retries, seconds later.
  journal: "brief",
  payload: z
    .object({
      /** Which server: the primary (the runner's target), or the canary while one runs. */
      node: CollectNodeSchema.default("primary"),
      /** The name the sender knows this target by; written into the sample's `target`. */
      target: TargetNameSchema.default(DEFAULT_COLLECT_TARGET),
      /** pg_stat_statements entries to keep, heaviest total time first. */
      top_statements: z.number().int().min(1).max(MAX_TOP_STATEMENTS).default(MAX_TOP_STATEMENTS),
    })
    .strict(),
  result: RawSampleSchema,
});
