/**
 * GET /api/analysis[?target=]   what detection sees on a target right now and what the rules
 * decide, grouped for people (src/core/analysis/view.ts): metrics, queries, workload,
 * change_points, usl, seasonal, confidence, facts, and decision {should_act, blocked, why}.
 * Needs the API token; unknown target → 404; an unknown or malformed parameter → 400.
 *
 * The rollout facts come from the target's Durable Object (status() over RPC), so the decision
 * shown is the one the cron loop would take at this instant.
 */
import { analyzeTarget, rolloutInputOf } from "../analysis/analyze-target";
import { detectConfigOf } from "../decide/detection-windows";
import { decisionProgram } from "../decide/rules";
import { rolloutStub } from "../rollout/stub";
import { findTarget } from "../store/targets";
import type { App } from "./app";
import { ApiError } from "./errors";
import { TargetQuerySchema } from "./status";
import { queryParams } from "./validate";

/** Strict: a misspelt parameter (?targte=) is an error, not a silent analysis of the default. */
export const AnalysisQuerySchema = TargetQuerySchema.strict();

export function registerAnalysisRoutes(app: App): void {
  app.get("/api/analysis", async (c) => {
    const { target: name } = queryParams(c, AnalysisQuerySchema);
    const db = c.get("db")();
    const target = await findTarget(db, c.get("config"), name);
    if (!target) throw new ApiError(404, `unknown target ${JSON.stringify(name)}`);
    const status = await rolloutStub(c.env, target.name).status();
    const { view } = await analyzeTarget(db, target.name, {
      now: Date.now(),
      rollout: rolloutInputOf(status),
      program: decisionProgram(),
      config: detectConfigOf(c.get("config").DETECTION_WINDOWS),
    });
    return c.json(view);
  });
}
