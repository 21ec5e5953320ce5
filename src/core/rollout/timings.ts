/**
 * How long each rollout step waits, samples and may take. Defaults are production-sane; tests
 * shorten them through POST /api/optimize {"timings": {…}} or the Worker's ROLLOUT_TIMINGS env
 * (JSON), both validated by this schema.
 *
 * @example
 *   const t = RolloutTimingsSchema.parse({ canaryStepMs: 5_000 }); // the rest are defaults
 *   t.cooldownMs; // 300000
 */
import { z } from "zod";
import { MIN_WINDOW_SECONDS } from "../metrics";

const ms = (min: number, max: number, fallback: number) => z.number().int().min(min).max(max).default(fallback);
const HOUR = 3_600_000;

export const RolloutTimingsSchema = z
  .object({
    /**
     * A sample is collected this often inside every measurement window: at least 1.5 s, so that
     * collect's own timing jitter never brings two samples under derive's 1 s minimum window.
     */
    sampleEveryMs: ms(MIN_WINDOW_SECONDS * 1500, 600_000, 10_000),
    /** The baseline is the mean of the stored snapshots this far back… */
    baselineLookbackMs: ms(10_000, HOUR, 120_000),
    /** …when there are at least this many with rates; otherwise it is measured live. */
    baselineMinSnapshots: z.number().int().min(2).max(1000).default(3),
    /** Length of a live baseline window. */
    baselineWindowMs: ms(1_000, HOUR, 60_000),
    /** Wait after a change (apply, route) before its measurement window starts. */
    settleMs: ms(0, 600_000, 5_000),
    /** Direct mode: measurement window after the new settings are in effect. */
    directStabilizationMs: ms(1_000, HOUR, 60_000),
    /** Canary mode: measurement window at each traffic share. */
    canaryStepMs: ms(1_000, HOUR, 30_000),
    /** Canary traffic shares in percent, increasing; 100 % is the switchover. */
    canarySteps: z
      .array(z.number().gt(0).lt(100))
      .min(1)
      .max(10)
      .default([5, 25, 50])
      .refine((s) => s.every((p, i) => i === 0 || p > s[i - 1]!), "canary steps must increase"),
    /** route_traffic's own share measurement (null: the runner's default, 10 s). */
    routeMeasureWindowMs: z.number().int().min(500).max(120_000).nullable().default(null),
    /** Window on the new primary after a switchover (reported, not gated: there is no way back). */
    verifyWindowMs: ms(1_000, HOUR, 30_000),
    /** A runner that does not answer a step within this (long commands: their own timeout) → rollback. */
    stepTimeoutMs: ms(1_000, 6 * HOUR, 180_000),
    /** Pause before resending a command whose answer was lost (same commandId). */
    retryDelayMs: ms(100, 600_000, 2_000),
    /** While a command runs, the alarm is re-armed this far ahead so an evicted object resumes. */
    resumeCheckMs: ms(1_000, HOUR, 30_000),
    /** Rollback retries: exponential from base to max… */
    rollbackRetryBaseMs: ms(100, HOUR, 5_000),
    rollbackRetryMaxMs: ms(1_000, 6 * HOUR, 300_000),
    /** …and after this many failed attempts the run is reported failed (retries go on at the max pace). */
    rollbackMaxAttempts: z.number().int().min(1).max(100).default(5),
    /** No new run starts until this long after the last one ended. */
    cooldownMs: ms(0, 24 * HOUR, 300_000),
    /** Retry pace for run records that could not be written to pg2une's database. */
    flushRetryMs: ms(500, HOUR, 30_000),
  })
  .strict();

export type RolloutTimings = z.output<typeof RolloutTimingsSchema>;
export type RolloutTimingsInput = z.input<typeof RolloutTimingsSchema>;

export const DEFAULT_TIMINGS: RolloutTimings = RolloutTimingsSchema.parse({});

/** Margin on top of a long command's own timeout before the step counts as unanswered. */
export const COMMAND_TIMEOUT_MARGIN_MS = 15_000;
/**
 * Commands allowed at least this long by their spec (a base backup, a microVM boot, an index
 * build with its measurement windows) do real work that long: their step waits for their own
 * timeout. Shorter commands answer within the configured step timeout or the step fails.
 */
export const LONG_COMMAND_MS = 5 * 60_000;

/** How long a step may wait for the runner's answer. */
export function stepTimeoutFor(timings: RolloutTimings, commandTimeoutMs: number | undefined): number {
  const own = commandTimeoutMs ?? 0;
  return own >= LONG_COMMAND_MS ? Math.max(timings.stepTimeoutMs, own + COMMAND_TIMEOUT_MARGIN_MS) : timings.stepTimeoutMs;
}

/** Delay before rollback attempt `attempt` (1-based): base·2^(attempt−1), capped. */
export function rollbackBackoffMs(timings: RolloutTimings, attempt: number): number {
  return Math.min(timings.rollbackRetryMaxMs, timings.rollbackRetryBaseMs * 2 ** Math.max(0, attempt - 1));
}

/** Sample times of a window of `lengthMs` starting at `start`: start, start+every, …, start+length. */
export function sampleCount(lengthMs: number, everyMs: number): number {
  return Math.max(2, Math.round(lengthMs / everyMs) + 1);
}

/**
 * Throughput is tps (pg_stat_database) when samples are this far apart or more. Each backend
 * flushes its transaction counts at most once a second (src/core/metrics/README.md), so a
 * 2-second window can be off by half; pg_stat_statements' calls (qps) are live. Shorter samples
 * (tests, a hurried operator) therefore judge throughput by qps and the run records that.
 */
export const TPS_MIN_SAMPLE_MS = 10_000;

export function throughputMetricFor(timings: Pick<RolloutTimings, "sampleEveryMs">): "tps" | "qps" {
  return timings.sampleEveryMs >= TPS_MIN_SAMPLE_MS ? "tps" : "qps";
}
