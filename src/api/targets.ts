/**
 * GET    /api/targets         every target: the env default plus rows of `targets`
 * POST   /api/targets         add or replace a target row (201 created, 200 replaced)
 * DELETE /api/targets/:name   remove a row; refused while its rollout is active
 *
 * The env default needs no row; a row with its name overrides it, and deleting that row brings
 * the env default back.
 */
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { KEY_ID_PATTERN, parseKeyRing } from "../protocol";
import { rolloutStub } from "../rollout/stub";
import { targets } from "../store/schema";
import { listTargets } from "../store/targets";
import type { App } from "./app";
import { ApiError, badRequest } from "./errors";
import { jsonBody } from "./validate";

export const TARGET_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

export const TargetBodySchema = z
  .object({
    name: z.string().regex(TARGET_NAME_PATTERN, "a target name is 1–63 letters, digits, _ or -, starting with a letter or digit"),
    runner_url: z.url({ protocol: /^https?$/, error: "runner_url must be an http(s) URL, e.g. http://127.0.0.1:7070" }),
    runner_key_id: z.string().regex(KEY_ID_PATTERN, "a key id is 1–64 of A-Z a-z 0-9 . _ -"),
    mode: z.enum(["direct", "canary"]).default("direct"),
    total_ram_mb: z.number().int().min(64, "total_ram_mb must be at least 64").max(64 * 1024 * 1024),
    cpus: z.number().int().min(1).max(4096).nullable().optional(),
    storage: z.enum(["ssd", "hdd", "san"]).nullable().optional(),
    enabled: z.boolean().default(true),
  })
  .strict();

const NameSchema = z.string().regex(TARGET_NAME_PATTERN, "not a target name");

export function registerTargetRoutes(app: App): void {
  app.get("/api/targets", async (c) => {
    const all = await listTargets(c.get("db")(), c.get("config"));
    return c.json({ targets: all });
  });

  app.post("/api/targets", async (c) => {
    const body = await jsonBody(c, TargetBodySchema);
    const ring = parseKeyRing(c.get("config").PG2UNE_RUNNER_KEYS);
    if (!ring.has(body.runner_key_id)) {
      throw badRequest(`runner_key_id: no key "${body.runner_key_id}" in this Worker's PG2UNE_RUNNER_KEYS (known: ${[...ring.keys()].join(", ") || "none"})`, [
        { path: "runner_key_id", message: "unknown key id" },
      ]);
    }
    const values = {
      name: body.name,
      runnerUrl: body.runner_url,
      runnerKeyId: body.runner_key_id,
      mode: body.mode,
      totalRamMb: body.total_ram_mb,
      cpus: body.cpus ?? null,
      storage: body.storage ?? null,
      enabled: body.enabled,
    };
    const db = c.get("db")();
    const [row] = await db
      .insert(targets)
      .values(values)
      .onConflictDoUpdate({ target: targets.name, set: { ...values, updatedAt: new Date() } })
      .returning({ name: targets.name, created: sql<boolean>`(xmax = 0)` });
    return c.json({ target: { ...values, source: "db" }, created: row?.created ?? true }, row?.created === false ? 200 : 201);
  });

  app.delete("/api/targets/:name", async (c) => {
    const parsed = NameSchema.safeParse(c.req.param("name"));
    if (!parsed.success) throw badRequest(`name: ${parsed.error.issues[0]?.message}`);
    const name = parsed.data;
    const db = c.get("db")();
    const [row] = await db.select({ name: targets.name }).from(targets).where(eq(targets.name, name)).limit(1);
    if (!row) {
      const why = name === c.get("config").TARGET_NAME ? " (the default target comes from env and has no row to delete)" : "";
      throw new ApiError(404, `no target row ${JSON.stringify(name)}${why}`);
    }
    const status = await rolloutStub(c.env, name).status();
    if (status.busy) {
      throw new ApiError(409, `target ${name} has a rollout in progress (${status.state}, run ${status.run?.id}); delete it when the run has ended`, { state: status.state, run_id: status.run?.id ?? null });
    }
    await db.delete(targets).where(eq(targets.name, name));
    return c.json({ deleted: name });
  });
}
