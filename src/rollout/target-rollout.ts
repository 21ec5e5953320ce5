/**
 * One Durable Object per target: the single writer of that target's rollout state, cooldown and
 * last optimization time. State lives in the DO's own (SQLite-backed) storage and every change
 * is awaited before anything acts on it.
 */
import { DurableObject } from "cloudflare:workers";

export type RolloutState =
  | "idle"
  | "capturing_baseline"
  | "optimizing"
  | "direct"
  | "canary"
  | "promoted"
  | "rolled_back"
  | "failed";

export interface RolloutStatus {
  state: RolloutState;
  lastTickAt: number | null;
  lastOptimizationTime: number | null;
}

const STATUS_KEY = "status";
const INITIAL: RolloutStatus = { state: "idle", lastTickAt: null, lastOptimizationTime: null };

export class TargetRollout extends DurableObject<Env> {
  async status(): Promise<RolloutStatus> {
    return (await this.ctx.storage.get<RolloutStatus>(STATUS_KEY)) ?? INITIAL;
  }

  /** Called by every cron tick so an operator can see the loop is alive for this target. */
  async recordTick(atMs: number): Promise<RolloutStatus> {
    const next = { ...(await this.status()), lastTickAt: atMs };
    await this.ctx.storage.put(STATUS_KEY, next);
    return next;
  }
}
