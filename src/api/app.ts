/**
 * The REST API (hono). Route modules register themselves on the app built here; this file owns
 * the shared plumbing: config parsing, the per-request database, auth and the error shape.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { parseWorkerConfig, ConfigError, type WorkerConfig } from "../config";
import { openDb, type Db } from "../store/db";
import { APP_NAME, VERSION } from "../version";
import { requireApiToken } from "./auth";
import { registerAnalysisRoutes } from "./analysis";
import { ApiError, type ErrorBody } from "./errors";
import { registerConfigRoutes } from "./config";
import { INGEST_PATH, registerIngestRoutes } from "./ingest";
import { registerMetricsRoutes } from "./metrics";
import { registerOptimizeRoutes } from "./optimize";
import { registerStatusRoutes } from "./status";
import { registerTargetRoutes } from "./targets";

export interface AppVariables {
  config: WorkerConfig;
  /** pg2une's database for this request; opened on first use, closed after the response. */
  db: () => Db;
}

export type AppEnv = { Bindings: Env; Variables: AppVariables };
export type App = Hono<AppEnv>;

/** Paths that authenticate by agent signature instead of the API token. */
const SIGNED_PATHS = new Set([INGEST_PATH]);

export function createApp(): App {
  const app = new Hono<AppEnv>();

  app.get("/", (c) => c.json({ status: "ok", app: APP_NAME, version: VERSION }));

  app.use("/api/*", async (c, next) => {
    c.set("config", parseWorkerConfig(c.env));
    let handle: ReturnType<typeof openDb> | undefined;
    c.set("db", () => (handle ??= openDb(c.get("config"))).db);
    try {
      await next();
    } finally {
      if (handle) {
        const closing = handle.close().catch(() => undefined);
        try {
          c.executionCtx.waitUntil(closing);
        } catch {
          await closing; // no execution context (e.g. app.request in a unit test)
        }
      }
    }
  });

  const tokenCheck = requireApiToken((c) => (c.get("config") as WorkerConfig).PG2UNE_API_TOKEN);
  app.use("/api/*", async (c, next) => (SIGNED_PATHS.has(c.req.path) ? next() : tokenCheck(c, next)));

  registerStatusRoutes(app);
  registerTargetRoutes(app);
  registerMetricsRoutes(app);
  registerOptimizeRoutes(app);
  registerConfigRoutes(app);
  registerIngestRoutes(app);
  registerAnalysisRoutes(app);

  app.notFound((c) => c.json<ErrorBody>({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    if (err instanceof ApiError) {
      const body: ErrorBody = { error: err.message };
      if (err.details !== undefined) body.details = err.details;
      return c.json(body, err.status);
    }
    if (err instanceof HTTPException) return c.json<ErrorBody>({ error: err.message }, err.status);
    if (err instanceof ConfigError) return c.json<ErrorBody>({ error: err.message }, 500);
    console.error(JSON.stringify({ event: "api_error", path: c.req.path, error: String(err), stack: (err as Error).stack }));
    return c.json<ErrorBody>({ error: "internal error", details: String((err as Error).message ?? err) }, 500);
  });

  return app;
}
