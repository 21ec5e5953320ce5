/** GET /api/status and GET /api/targets. */
import { z } from "zod";
import { findTarget, listTargets } from "../store/targets";
import { rolloutStub } from "../rollout/stub";
import type { App } from "./app";
import { ApiError } from "./errors";
import { queryParams } from "./validate";

export const TargetQuerySchema = z.object({ target: z.string().min(1).max(63).optional() });

export function registerStatusRoutes(app: App): void {
  app.get("/api/targets", async (c) => {
    const all = await listTargets(c.get("db")(), c.get("config"));
    return c.json({ targets: all });
  });

  app.get("/api/status", async (c) => {
    const { target: name } = queryParams(c, TargetQuerySchema);
    const target = await findTarget(c.get("db")(), c.get("config"), name);
    if (!target) throw new ApiError(404, `unknown target ${JSON.stringify(name)}`);
    const rollout = await rolloutStub(c.env, target.name).status();
    return c.json({ target: target.name, mode: target.mode, ...rollout });
  });
}
