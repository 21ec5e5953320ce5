/**
 * How a run is asked of a target's Durable Object: the one place that turns a target (env default
 * or `targets` row) into start() options. POST /api/optimize (a person, trigger "manual") and the
 * cron decision loop (trigger "auto", with its cause) both build their request here.
 *
 * @example
 *   rolloutStub(env, t.name).start("knobs", startOptionsFor(t, { trigger: "auto", cause }));
 */
import type { StartOptions } from "../rollout/target-rollout";
import type { Target } from "../store/targets";

/** start() options without the target and trigger, which the caller settles here. */
export type StartExtras = Omit<StartOptions, "target" | "mode" | "trigger"> & { mode?: StartOptions["mode"] };

/** `extras.mode` overrides the target's configured mode (direct | canary). */
export function startOptionsFor(target: Target, trigger: "manual" | "auto", extras: StartExtras = {}): StartOptions {
  const { mode, ...rest } = extras;
  return {
    ...rest,
    mode: mode ?? target.mode,
    trigger,
    target: {
      name: target.name,
      runnerUrl: target.runnerUrl,
      runnerKeyId: target.runnerKeyId,
      totalRamMb: target.totalRamMb,
      cpus: target.cpus,
      storage: target.storage,
    },
  };
}
