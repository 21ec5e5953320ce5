/**
 * GET /api/metrics            the latest snapshot of a target (with its heaviest queries)
 * GET /api/metrics/history    snapshots of the last `minutes` (1..43200, default 60), oldest first
 * Both take ?target= (default: the env target; unknown → 404) and need the API token.
 *
 * Items are MetricsItem objects (src/core/metrics/snapshot.ts): snake_case, rates per second,
 * latencies in ms, null where a value is unknown (first sample, counter reset).
 */
import { z } from "zod";
import { findTarget } from "../store/targets";
import { latestSnapshot, snapshotHistory } from "../store/snapshots";
import type { App } from "./app";
import { ApiError } from "./errors";
import { TargetQuerySchema } from "./status";
import { queryParams } from "./validate";

export const DEFAULT_HISTORY_MINUTES = 60;
/** 30 days: longer than the default retention, so "everything we have" is one call. */
export const MAX_HISTORY_MINUTES = 43_200;

export const HistoryQuerySchema = TargetQuerySchema.extend({
  minutes: z
    .string()
    .regex(/^\d+$/, "minutes must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1, "minutes must be at least 1").max(MAX_HISTORY_MINUTES, `minutes must be at most ${MAX_HISTORY_MINUTES}`))
    .optional(),
});

export function registerMetricsRoutes(app: App): void {
  app.get("/api/metrics", async (c) => {
    const { target: name } = queryParams(c, TargetQuerySchema);
    const db = c.get("db")();
    const target = await findTarget(db, c.get("config"), name);
    if (!target) throw new ApiError(404, `unknown target ${JSON.stringify(name)}`);
    const latest = await latestSnapshot(db, target.name);
    if (!latest) return c.json({ target: target.name, snapshot: null, queries: [], message: "no metrics collected for this target yet" });
    return c.json({ target: target.name, snapshot: latest.item, queries: latest.queries });
  });

  app.get("/api/metrics/history", async (c) => {
    const { target: name, minutes = DEFAULT_HISTORY_MINUTES } = queryParams(c, HistoryQuerySchema);
    const db = c.get("db")();
    const target = await findTarget(db, c.get("config"), name);
    if (!target) throw new ApiError(404, `unknown target ${JSON.stringify(name)}`);
    const since = new Date(Date.now() - minutes * 60_000);
    const items = await snapshotHistory(db, target.name, since);
    return c.json({ target: target.name, minutes, since: since.toISOString(), items });
  });
}
