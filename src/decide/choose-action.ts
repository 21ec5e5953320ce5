/**
 * Which run the cron loop starts when the rules conclude should_act(Action), pure.
 *
 * rules/pg2une.dl makes the three kinds mutually exclusive (queries only when no metric degraded,
 * knobs only when no query regressed, holistic when both), so normally there is exactly one. An
 * operator's edited rules may conclude several; then the broadest wins:
 *
 *   holistic > knobs > queries
 *
 * holistic does what the other two do (its index step, then its knob step); knobs answers a
 * system-wide degradation, which outranks slower single queries (queries is chosen by the rules
 * only when nothing system-wide degraded). Actions the rollout does not know (a typo in an
 * edited rules file) are reported, never started.
 *
 * @example
 *   chooseAction(["knobs", "holistic"]); // { action: "holistic", unknown: [] }
 *   chooseAction(["tune_everything"]);   // { action: null, unknown: ["tune_everything"] }
 */
import { ROLLOUT_ACTIONS, type RolloutAction } from "../core/rollout/run-state";

/** Broadest first: the first one present in should_act is started. */
export const ACTION_PRECEDENCE: readonly RolloutAction[] = ["holistic", "knobs", "queries"];

export interface ChosenAction {
  action: RolloutAction | null;
  /** should_act values that are not rollout actions. */
  unknown: string[];
}

export function chooseAction(shouldAct: readonly string[]): ChosenAction {
  const known = new Set<string>(ROLLOUT_ACTIONS);
  const action = ACTION_PRECEDENCE.find((a) => shouldAct.includes(a)) ?? null;
  return { action, unknown: [...new Set(shouldAct.filter((a) => !known.has(a)))].sort() };
}
