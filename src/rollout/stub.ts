import type { TargetRollout } from "./target-rollout";

/** The Durable Object of a target: one per target name, so it is the single writer for it. */
export function rolloutStub(env: Env, target: string): DurableObjectStub<TargetRollout> {
  return env.ROLLOUT.get(env.ROLLOUT.idFromName(target));
}
