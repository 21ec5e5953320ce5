/**
 * The tuner's objective: measured improvement of a configuration over the baseline, as the
 * original pg2une defined it (deployment_manager.ex):
 *
 *   improvement % = 0.6 · Δtps % + 0.4 · (−Δp99 latency %)
 *
 * Higher is better. +10 means "10 % better overall". A zero or missing baseline contributes 0
 * for that metric (there is nothing to compare against), as in the original.
 *
 * @example
 *   improvementScore({ tps: 1000, latencyP99: 20 }, { tps: 1100, latencyP99: 18 }); // 10
 */
import { z } from "zod";

export const OBJECTIVE_WEIGHTS = { tps: 0.6, latencyP99: 0.4 } as const;

export const PerformanceSchema = z.object({
  /** Transactions per second. */
  tps: z.number().nonnegative(),
  /** 99th-percentile latency, any unit as long as baseline and measured agree. */
  latencyP99: z.number().nonnegative(),
});
export type Performance = z.output<typeof PerformanceSchema>;

export const SCORE_TYPES = ["surrogate", "live_test", "deployment"] as const;
export type ScoreType = (typeof SCORE_TYPES)[number];

function relativeChange(baseline: number, current: number): number {
  return baseline !== 0 && Number.isFinite(baseline) ? (current - baseline) / baseline : 0;
}

/** Improvement in percent, rounded to 2 decimals like the original. */
export function improvementScore(baseline: Performance, measured: Performance): number {
  const b = PerformanceSchema.parse(baseline);
  const m = PerformanceSchema.parse(measured);
  const tps = relativeChange(b.tps, m.tps);
  const latency = -relativeChange(b.latencyP99, m.latencyP99);
  return Math.round((OBJECTIVE_WEIGHTS.tps * tps + OBJECTIVE_WEIGHTS.latencyP99 * latency) * 100 * 100) / 100;
}
