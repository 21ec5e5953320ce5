/**
 * POST /api/optimize              start a run on a target's rollout Durable Object (202)
 * GET  /api/optimizations?limit=  the target's runs, newest first (1..200, default 20)
 * GET  /api/optimization/:id      one run: configs, baseline and result metrics, improvement,
 *                                 the event timeline and the indexes it managed
 *
 * @example
 *   curl -X POST -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
 *        -d '{"action": "knobs", "mode": "direct"}' http://127.0.0.1:8787/api/optimize
 */
import { z } from "zod";
import { GateThresholdsSchema } from "../core/rollout/gates";
import type { Context } from "hono";
import { KnobOverrideSchema, ROLLOUT_ACTIONS, ROLLOUT_MODES } from "../core/rollout";
import { RolloutTimingsSchema } from "../core/rollout/timings";
import { IndexAdvisorThresholdsSchema } from "../core/indexes/thresholds";
import { WORKLOAD_CLASSES, type WorkloadClass } from "../core/knobs";
import { rolloutStub } from "../rollout/stub";
import { startOptionsFor } from "../loop/start-options";
import { getRun, listRuns } from "../store/runs";
import { findTarget, type Target } from "../store/targets";
import type { App, AppEnv } from "./app";
import { ApiError, badRequest } from "./errors";
import { TargetQuerySchema } from "./status";
import { jsonBody, queryParams } from "./validate";

export const DEFAULT_OPTIMIZATIONS_LIMIT = 20;
export const MAX_OPTIMIZATIONS_LIMIT = 200;

export const OptimizeBodySchema = z
  .object({
    action: z.enum(ROLLOUT_ACTIONS, { error: `action must be one of ${ROLLOUT_ACTIONS.join(", ")}` }),
    mode: z.enum(ROLLOUT_MODES, { error: `mode must be one of ${ROLLOUT_MODES.join(", ")}` }).optional(),
    target: z.string().min(1).max(63).optional(),
    workload_class: z.enum(WORKLOAD_CLASSES as unknown as [WorkloadClass, ...WorkloadClass[]]).optional(),
    /** Step timings (names as in src/core/rollout/timings.ts), e.g. {"canaryStepMs": 5000}. */
    timings: RolloutTimingsSchema.partial().strict().optional(),
    thresholds: GateThresholdsSchema.partial().strict().optional(),
    index_thresholds: IndexAdvisorThresholdsSchema.partial().optional(),
    /** Roll out exactly this configuration (needs ALLOW_FORCED_CONFIG=true on the Worker). */
    force_config: KnobOverrideSchema.optional(),
  })
  .strict();

export const OptimizationsQuerySchema = TargetQuerySchema.extend({
  limit: z
    .string()
    .regex(/^\d+$/, "limit must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1, "limit must be at least 1").max(MAX_OPTIMIZATIONS_LIMIT, `limit must be at most ${MAX_OPTIMIZATIONS_LIMIT}`))
    .optional(),
});

const RunIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, "not a run id");

export async function targetOr404(c: Context<AppEnv>, name: string | undefined): Promise<Target> {
  const target = await findTarget(c.get("db")(), c.get("config"), name);
  if (!target) throw new ApiError(404, `unknown target ${JSON.stringify(name)}`);
  return target;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function registerOptimizeRoutes(app: App): void {
  app.post("/api/optimize", async (c) => {
    const body = await jsonBody(c, OptimizeBodySchema);
    const { target: queryTarget } = queryParams(c, TargetQuerySchema);
    if (body.target && queryTarget && body.target !== queryTarget) throw badRequest(`target: the body says ${JSON.stringify(body.target)} but ?target= says ${JSON.stringify(queryTarget)}`);
    const config = c.get("config");
    if (body.force_config && !config.ALLOW_FORCED_CONFIG) {
      throw badRequest("force_config: forcing a configuration is disabled on this Worker (set ALLOW_FORCED_CONFIG=true to allow it)", [{ path: "force_config", message: "disabled" }]);
    }
    const target = await targetOr404(c, body.target ?? queryTarget);
    if (!target.enabled) throw new ApiError(409, `target ${target.name} is disabled`, { target: target.name });
    const options = startOptionsFor(target, "manual", {
      ...(body.mode ? { mode: body.mode } : {}),
      ...(body.workload_class ? { workloadClass: body.workload_class } : {}),
      ...(body.timings ? { timings: body.timings } : {}),
      ...(body.thresholds ? { thresholds: body.thresholds } : {}),
      ...(body.index_thresholds ? { indexThresholds: body.index_thresholds } : {}),
      ...(body.force_config ? { forceConfig: body.force_config } : {}),
    });
    const mode = options.mode;
    const started = await rolloutStub(c.env, target.name).start(body.action, options);
    if (!started.ok) {
      if (started.reason === "invalid") throw badRequest(started.message, started.details);
      throw new ApiError(409, started.message, {
        reason: started.reason,
        state: started.state,
        run_id: started.runId,
        cooldown_left_seconds: started.cooldownLeftSeconds,
      });
    }
    return c.json({ run_id: started.runId, state: started.state, step: started.step, target: target.name, action: body.action, mode }, 202);
  });

  app.get("/api/optimizations", async (c) => {
    const { target: name, limit = DEFAULT_OPTIMIZATIONS_LIMIT } = queryParams(c, OptimizationsQuerySchema);
    const target = await targetOr404(c, name);
    const rows = await listRuns(c.get("db")(), target.name, limit);
    return c.json({
      target: target.name,
      limit,
      optimizations: rows.map((r) => ({
        id: r.id,
        action: r.action,
        mode: r.mode,
        trigger: r.trigger,
        state: r.state,
        step: r.step,
        outcome: r.outcome,
        reason: r.reason,
        workload_class: r.workloadClass,
        improvement_pct: r.improvementPct,
        started_at: iso(r.startedAt),
        finished_at: iso(r.finishedAt),
      })),
    });
  });

  app.get("/api/optimization/:id", async (c) => {
    const parsed = RunIdSchema.safeParse(c.req.param("id"));
    if (!parsed.success) throw badRequest(`id: ${parsed.error.issues[0]?.message}`);
    const found = await getRun(c.get("db")(), parsed.data);
    if (!found) throw new ApiError(404, `no optimization run ${JSON.stringify(parsed.data)}`);
    const { run, events, indexes, observations } = found;
    return c.json({
      id: run.id,
      target: run.target,
      action: run.action,
      mode: run.mode,
      trigger: run.trigger,
      state: run.state,
      step: run.step,
      outcome: run.outcome,
      reason: run.reason,
      workload_class: run.workloadClass,
      objective_source: run.objectiveSource,
      config: { proposed: run.proposedConfig, previous: run.previousConfig },
      baseline_metrics: run.baselineMetrics,
      result_metrics: run.resultMetrics,
      improvement_pct: run.improvementPct,
      details: run.details,
      started_at: iso(run.startedAt),
      finished_at: iso(run.finishedAt),
      events: events.map((e) => ({ seq: e.seq, at: iso(e.at), kind: e.kind, state: e.state, message: e.message, data: e.data })),
      managed_indexes: indexes.map((i) => ({
        index_name: i.indexName,
        table_name: i.tableName,
        columns: i.columns,
        ddl: i.ddl,
        status: i.status,
        measured: i.measured,
        created_at: iso(i.createdAt),
        dropped_at: iso(i.droppedAt),
      })),
      observations: observations.map((o) => ({ score: o.score, score_type: o.scoreType, workload_class: o.workloadClass, tps: o.tps, latency_p99: o.latencyP99, baseline_tps: o.baselineTps, baseline_latency_p99: o.baselineLatencyP99 })),
    });
  });
}
