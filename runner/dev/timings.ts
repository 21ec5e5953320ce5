/**
 * Rollout timings for the local stack (the Worker's ROLLOUT_TIMINGS). The production defaults
 * (src/core/rollout/timings.ts: 60 s windows, 30 s per canary step) assume a fleet and minute-long
 * metrics; on one machine with a local canary, windows of 15–30 s already average thousands of
 * transactions, and a user trying `POST /api/optimize` should see the run end in about 2 minutes.
 * Only the waits change; gates, retries and the cooldown stay as in production.
 */
import { RolloutTimingsSchema, type RolloutTimingsInput } from "../../src/core/rollout/timings";

/** `npm start`: a direct run ≈ 1 min, a canary run ≈ 2–3 min. */
export const DEV_ROLLOUT_TIMINGS: RolloutTimingsInput = checked({
  sampleEveryMs: 5_000,
  baselineWindowMs: 20_000,
  settleMs: 3_000,
  directStabilizationMs: 30_000,
  canaryStepMs: 20_000,
  routeMeasureWindowMs: 5_000,
  verifyWindowMs: 15_000,
});

/**
 * `npm start -- --demo`: shorter still, and the baseline is always measured live, after the run
 * started: detection fires within a tick or two of the degradation, so "the stored snapshots of
 * the last N s" would still hold healthy ones and blur the before/after comparison.
 */
export const DEMO_ROLLOUT_TIMINGS: RolloutTimingsInput = checked({
  ...DEV_ROLLOUT_TIMINGS,
  sampleEveryMs: 3_000,
  baselineMinSnapshots: 1_000,
  baselineWindowMs: 15_000,
  directStabilizationMs: 20_000,
  canaryStepMs: 15_000,
});

/** Fails at import (and so in every test) if a value leaves the schema's bounds. */
function checked(t: RolloutTimingsInput): RolloutTimingsInput {
  RolloutTimingsSchema.partial().strict().parse(t);
  return t;
}
