/**
 * GET /api/status: the target's rollout (state, step, workload class, cooldown left, current run)
 * and the cron loop's latest decision for it (last_decision: started / refused / held / …, why,
 * the CUSUM state and confidence it saw).
 */
import { z } from "zod";
import { findTarget } from "../store/targets";
import { rolloutStub } from "../rollout/stub";
import type { App } from "./app";
import { ApiError } from "./errors";
import { queryParams } from "./validate";

export const TargetQuerySchema = z.object({ target: z.string().min(1).max(63).optional() });

export function registerStatusRoutes(app: App): void {
  app.get("/api/status", async (c) => {
    const { target: name } = queryParams(c, TargetQuerySchema);
    const target = await findTarget(c.get("db")(), c.get("config"), name);
    if (!target) throw new ApiError(404, `unknown target ${JSON.stringify(name)}`);
    const s = await rolloutStub(c.env, target.name).status();
    return c.json({
      target: target.name,
      mode: target.mode,
      state: s.state,
      busy: s.busy,
      action: s.run?.action ?? null,
      step: s.run?.step ?? null,
      workload_class: s.run?.workloadClass ?? null,
      cooldown_seconds: s.cooldownSeconds,
      cooldown_left_seconds: s.cooldownLeftSeconds,
      last_tick_at: s.lastTickAt !== null ? new Date(s.lastTickAt).toISOString() : null,
      last_optimization_time: s.lastOptimizationTime !== null ? new Date(s.lastOptimizationTime).toISOString() : null,
      last_promotion_time: s.lastPromotionTime !== null ? new Date(s.lastPromotionTime).toISOString() : null,
      run: s.run,
      unflushed_records: s.unflushedRecords,
      last_flush_error: s.lastFlushError,
      last_decision: s.lastDecision ? { ...s.lastDecision, at: new Date(s.lastDecision.at).toISOString() } : null,
    });
  });
}
