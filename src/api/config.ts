/**
 * GET /api/config            the target's live configuration, read through its runner
 *                            (read_config): value as SHOW prints it, context, pending restart
 * GET  /api/infrastructure   primary, canary, traffic split and mxc workloads (infrastructure_status)
 * POST /api/infrastructure   deploy the primary and PgBouncer through mxc when absent (ensure_infrastructure)
 *
 * All take ?target=; an unreachable runner is a 502 that names it.
 */
import { requiresRestart } from "../core/knobs";
import type { CommandResult } from "../protocol";
import type { App } from "./app";
import { targetOr404 } from "./optimize";
import { askRunner } from "./runner-call";
import { TargetQuerySchema } from "./status";
import { queryParams } from "./validate";

/** ensure_infrastructure may boot microVMs: the API waits this long for its answer. */
export const ENSURE_INFRASTRUCTURE_WAIT_MS = 15 * 60_000;

export function registerConfigRoutes(app: App): void {
  app.get("/api/config", async (c) => {
    const { target: name } = queryParams(c, TargetQuerySchema);
    const target = await targetOr404(c, name);
    const result = (await askRunner(c.get("config").PG2UNE_RUNNER_KEYS, target, "read_config", {})) as CommandResult<"read_config">;
    return c.json({
      target: target.name,
      server_version: result.serverVersion,
      pending_restart: result.pendingRestart,
      settings: result.settings.map((s) => ({
        name: s.name,
        value: s.display,
        setting: s.setting,
        unit: s.unit,
        context: s.context,
        restart_required: requiresRestart(s),
        pending_restart: s.pending_restart,
        min: s.min_val,
        max: s.max_val,
      })),
      unknown_to_server: result.unknownToServer,
    });
  });

  app.get("/api/infrastructure", async (c) => {
    const { target: name } = queryParams(c, TargetQuerySchema);
    const target = await targetOr404(c, name);
    const status = await askRunner(c.get("config").PG2UNE_RUNNER_KEYS, target, "infrastructure_status", {});
    return c.json({ target: target.name, infrastructure: status });
  });

  app.post("/api/infrastructure", async (c) => {
    const { target: name } = queryParams(c, TargetQuerySchema);
    const target = await targetOr404(c, name);
    const ensured = await askRunner(c.get("config").PG2UNE_RUNNER_KEYS, target, "ensure_infrastructure", {}, ENSURE_INFRASTRUCTURE_WAIT_MS);
    return c.json({ target: target.name, infrastructure: ensured });
  });
}
