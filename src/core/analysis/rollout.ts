/**
 * What the decision rules need from a target's Durable Object, as facts. The Durable Object owns
 * the rollout state, the cooldown clock and the last optimization time; analysis only reads them,
 * so they are passed in (the DO's `status()` maps onto `RolloutInput` one to one).
 *
 *   rollout_active()             the state is anything but a resting one, or the object is busy
 *                                (a failed run whose rollback is still being retried rests in
 *                                "failed" but still refuses a new run)
 *   last_optimization_time(T)    seconds since the epoch (the rules' cooldown compares it with now)
 *   cooldown_seconds(C)          the object's own cooldown, when known: the rules keep the longest
 *                                of theirs and this one, so they never act while the object refuses
 *   now(N)                       seconds since the epoch
 *
 * @example
 *   rolloutFacts({ state: "canary", lastOptimizationTime: 1_700_000_000_000 }, Date.now());
 *   // [rollout_active(), last_optimization_time(1700000000), now(…)]
 */
import { type Fact, fact } from "../detect/facts";

/** States in which no run is in flight: a new run may start (cooldown permitting). */
export const RESTING_ROLLOUT_STATES = ["idle", "promoted", "rolled_back", "failed"] as const;

export interface RolloutInput {
  /** The Durable Object's rollout state (idle, capturing_baseline, optimizing, direct, canary, promoted, …). */
  state: string;
  /** When the last optimization run happened, ms since the epoch; null if never. */
  lastOptimizationTime: number | null;
  /** The object refuses a new run right now (a step or a rollback is pending), whatever the state. */
  busy?: boolean;
  /** The object's cooldown in seconds (its last run's), when known. */
  cooldownSeconds?: number | null;
  /**
   * Baselines are valid from this time (ms since the epoch): after a promoted run the old normal
   * is gone. The Durable Object keeps when its last promoted run ended (a later run that rolled
   * back does not bring the old normal back). Default: the last optimization time while the
   * state is "promoted".
   */
  baselineValidFrom?: number | null;
}

export const NO_ROLLOUT: RolloutInput = { state: "idle", lastOptimizationTime: null };

export function rolloutActive(state: string, busy = false): boolean {
  return busy || !(RESTING_ROLLOUT_STATES as readonly string[]).includes(state);
}

/** Whole seconds, as the rules compare them (`Now - T < Cooldown`). */
export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

export function rolloutFacts(rollout: RolloutInput, nowMs: number): Fact[] {
  const facts: Fact[] = [];
  if (rolloutActive(rollout.state, rollout.busy)) facts.push(fact("rollout_active"));
  if (rollout.lastOptimizationTime !== null) facts.push(fact("last_optimization_time", epochSeconds(rollout.lastOptimizationTime)));
  if (rollout.cooldownSeconds !== undefined && rollout.cooldownSeconds !== null) facts.push(fact("cooldown_seconds", rollout.cooldownSeconds));
  facts.push(fact("now", epochSeconds(nowMs)));
  return facts;
}

/** ISO time from which detection baselines are valid, or undefined (the whole history). */
export function baselineValidFrom(rollout: RolloutInput): string | undefined {
  const ms = rollout.baselineValidFrom ?? (rollout.state === "promoted" ? rollout.lastOptimizationTime : null);
  return ms === null || ms === undefined ? undefined : new Date(ms).toISOString();
}
