/**
 * The control API's contract inside workerd: validation (400 naming the field), unknown things
 * (404), targets management, and the runner-backed reads (/api/config, /api/infrastructure)
 * against the real runner of the global setup — and a 502 that says so when a runner is gone.
 */
import { env, exports } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createApp } from "../../src/api/app";
import { parseWorkerConfig } from "../../src/config";
import { openDb, type DbHandle } from "../../src/store/db";
import { targets } from "../../src/store/schema";
import { TEST_API_TOKEN } from "../support/worker-constants";

declare module "vitest" {
  export interface ProvidedContext {
    runnerUrl: string;
    deadRunnerUrl: string;
  }
}

const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };
const json = { ...auth, "content-type": "application/json" };
const api = (path: string, init: RequestInit = {}) => exports.default.fetch(`http://pg2une.test${path}`, { ...init, headers: { ...json, ...(init.headers ?? {}) } });
const post = (path: string, body: unknown) => api(path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });

let handle: DbHandle;
const live = `api-live-${crypto.randomUUID().slice(0, 8)}`;
const dead = `api-dead-${crypto.randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  handle = openDb(parseWorkerConfig(env));
  await handle.db.insert(targets).values([
    { name: live, runnerUrl: inject("runnerUrl"), runnerKeyId: "test" },
    { name: dead, runnerUrl: inject("deadRunnerUrl"), runnerKeyId: "test" },
  ]);
});
afterAll(async () => {
  await handle.close();
});

describe("POST /api/optimize: bad input is a 400 that names the field", () => {
  it.each([
    ["malformed JSON", "{not json", /request body is not valid JSON/],
    ["unknown action", { action: "everything" }, /action: action must be one of knobs, queries, holistic/],
    ["unknown mode", { action: "knobs", mode: "sideways" }, /mode: mode must be one of direct, canary/],
    ["unknown field", { action: "knobs", colour: "blue" }, /colour|Unrecognized key/i],
    ["timings out of range", { action: "knobs", timings: { sampleEveryMs: 10 } }, /timings\.sampleEveryMs/],
    ["a knob name that is not a setting name", { action: "knobs", force_config: { "work mem": "1MB" } }, /force_config/],
  ])("%s", async (_what, body, message) => {
    const res = await post("/api/optimize", body);
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { error: string };
    expect(answer.error).toMatch(message);
  });

  it("force_config is refused unless the Worker allows it (ALLOW_FORCED_CONFIG)", async () => {
    const app = createApp();
    const res = await app.request(
      "/api/optimize",
      { method: "POST", headers: json, body: JSON.stringify({ action: "knobs", force_config: { work_mem: "64kB" } }) },
      { ...env, ALLOW_FORCED_CONFIG: "false" },
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: expect.stringMatching(/^force_config: forcing a configuration is disabled/) });
  });

  it("an unknown target is a 404", async () => {
    const res = await post("/api/optimize?target=nope-nope", { action: "knobs" });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'unknown target "nope-nope"' });
  });

  it("needs the API token", async () => {
    const res = await exports.default.fetch("http://pg2une.test/api/optimize", { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
  });
});

describe("GET /api/optimizations and /api/optimization/:id", () => {
  it.each(["0", "201", "ten", "-1"])("limit=%s is a 400 naming limit", async (limit) => {
    const res = await api(`/api/optimizations?limit=${limit}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/limit/);
  });

  it("defaults to 20 and lists a target's runs", async () => {
    const res = await api(`/api/optimizations?target=${live}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ target: live, limit: 20, optimizations: [] });
  });

  it("an unknown run is a 404", async () => {
    const res = await api("/api/optimization/r-00000000-0000-0000-0000-000000000000");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toMatch(/no optimization run/);
  });
});

describe("/api/targets", () => {
  const name = `api-t-${crypto.randomUUID().slice(0, 8)}`;
  const good = { name, runner_url: "http://127.0.0.1:7071", runner_key_id: "test", mode: "canary", total_ram_mb: 2048 };

  it.each([
    ["a bad runner URL", { ...good, runner_url: "ftp://x" }, /runner_url/],
    ["a key id the Worker does not have", { ...good, runner_key_id: "nobody" }, /runner_key_id: no key "nobody"/],
    ["no total_ram_mb", { ...good, total_ram_mb: undefined }, /total_ram_mb/],
    ["a bad mode", { ...good, mode: "yolo" }, /mode/],
    ["a bad name", { ...good, name: "-x y" }, /name/],
  ])("POST with %s is a 400", async (_what, body, message) => {
    const res = await post("/api/targets", body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(message);
  });

  it("POST creates (201), replaces (200), GET lists, DELETE removes (then 404)", async () => {
    const created = await post("/api/targets", good);
    expect(created.status).toBe(201);
    const replaced = await post("/api/targets", { ...good, total_ram_mb: 4096 });
    expect(replaced.status).toBe(200);
    const list = (await (await api("/api/targets")).json()) as { targets: Array<{ name: string; totalRamMb: number; mode: string }> };
    expect(list.targets.find((t) => t.name === name)).toMatchObject({ totalRamMb: 4096, mode: "canary" });
    const removed = await api(`/api/targets/${name}`, { method: "DELETE" });
    expect(removed.status).toBe(200);
    const again = await api(`/api/targets/${name}`, { method: "DELETE" });
    expect(again.status).toBe(404);
  });
});

describe("runner-backed reads", () => {
  it("GET /api/config is live from the runner", async () => {
    const res = await api(`/api/config?target=${live}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { server_version: string; settings: Array<{ name: string; context: string; restart_required: boolean }> };
    expect(body.server_version).toMatch(/^\d+/);
    expect(body.settings.find((s) => s.name === "work_mem")).toMatchObject({ context: "user", restart_required: false });
    expect(body.settings.find((s) => s.name === "shared_buffers")).toMatchObject({ restart_required: true });
  });

  it("an unreachable runner is a 502 that names it", async () => {
    const res = await api(`/api/config?target=${dead}`);
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: string; details: { command: string } };
    expect(body.error).toMatch(new RegExp(`runner of target ${dead} at ${inject("deadRunnerUrl")} is unreachable`));
    expect(body.details.command).toBe("read_config");
  });

  it("GET /api/infrastructure asks the runner (no canary, no routing configured here)", async () => {
    const res = await api(`/api/infrastructure?target=${live}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ target: live, infrastructure: { canary: null, routingConfigured: false } });
  });
});
