/**
 * The config commands end to end: a real runner process, signed requests, a real PostgreSQL.
 * "Nothing changed" is checked where it matters: postgresql.auto.conf's bytes and SHOW on a
 * fresh connection.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMAND_TYPES, commandSpec, parseKeyRing } from "../../../src/protocol";
import { createRunnerClient, RunnerRejectedError, type RunnerClient } from "../../../src/runner-client";
import { startTestCluster, type TestCluster } from "../../support/postgres";
import { startRunnerProcess, type RunnerProcess } from "../../support/runner-process";
import { sendSigned } from "../../support/signed-request";
import { TEST_RUNNER_KEYS } from "../../support/worker-constants";

const key = parseKeyRing(TEST_RUNNER_KEYS).get("test")!;
/** Short, so the timeout test is quick; every other command here finishes far below it. */
const COMMAND_TIMEOUT_MS = 2_500;

let cluster: TestCluster;
let runner: RunnerProcess;
let client: RunnerClient;

const autoConf = () => readFileSync(join(cluster.dataDir, "postgresql.auto.conf"), "utf8");
const show = async (name: string) => (await cluster.query<{ v: string }>(`select current_setting($1) as v`, [name]))[0]!.v;

beforeAll(async () => {
  cluster = await startTestCluster();
  runner = await startRunnerProcess({ targetUrl: cluster.url(), keys: TEST_RUNNER_KEYS, env: { PG2UNE_RUNNER_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) } });
  client = createRunnerClient({ url: runner.url, key, retry: { maxAttempts: 1 } });
});
afterAll(async () => {
  await runner?.destroy();
  await cluster?.destroy();
});

describe("read_config", () => {
  it("returns the catalog knobs with value, unit, context and pending_restart", async () => {
    const { result } = await client.send("read_config", {});
    const workMem = result.settings.find((s) => s.name === "work_mem");
    expect(workMem).toMatchObject({ setting: "4096", unit: "kB", display: "4MB", context: "user", vartype: "integer", pending_restart: false });
    expect(result.settings.find((s) => s.name === "shared_buffers")).toMatchObject({ context: "postmaster", unit: "8kB" });
    expect(result.settings.length).toBeGreaterThanOrEqual(15);
    expect(result.unknownToServer).toEqual([]);
    expect(result.serverVersion).toMatch(/^15/);
  });

  it("reads only the requested knobs; a protected or unknown one is a 400 naming it", async () => {
    const { result } = await client.send("read_config", { knobs: ["work_mem", "jit"] });
    expect(result.settings.map((s) => s.name)).toEqual(["jit", "work_mem"]);
    const err = await client.send("read_config", { knobs: ["fsync"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunnerRejectedError);
    expect(err).toMatchObject({ status: 400, reason: "invalid_config", verified: true });
    expect((err as Error).message).toMatch(/fsync is protected/);
  });
});

describe("apply_config and reset_config", () => {
  it("apply changes work_mem (SHOW on a new connection), reset restores it", async () => {
    expect(await show("work_mem")).toBe("4MB");
    const applied = await client.send("apply_config", { settings: { work_mem: "64MB", random_page_cost: 1.5 } });
    expect(applied.result).toMatchObject({
      applied: [
        { name: "work_mem", value: "64MB", context: "user", previous: null },
        { name: "random_page_cost", value: "1.5", context: "user", previous: null },
      ],
      skippedNeedsRestart: [],
      errors: [],
      reloaded: true,
    });
    expect(await show("work_mem")).toBe("64MB");
    expect(await show("random_page_cost")).toBe("1.5");
    expect(autoConf()).toMatch(/^work_mem = '64MB'$/m);

    const reset = await client.send("reset_config", { knobs: ["work_mem"] });
    expect(reset.result.reset).toEqual([{ name: "work_mem", previous: "64MB" }]);
    expect(await show("work_mem")).toBe("4MB");
    expect(autoConf()).not.toMatch(/work_mem/);

    // Reset without a list resets every managed knob.
    const all = await client.send("reset_config", {});
    expect(all.result.reset).toEqual([{ name: "random_page_cost", previous: "1.5" }]);
    expect(await show("random_page_cost")).toBe("4");
  });

  it.each([
    [{ work_mem: "-1", random_page_cost: 2 }, "work_mem", /below the server's minimum/],
    [{ work_mem: "32MB", random_page_cost: "abc" }, "random_page_cost", /not a number/],
    [{ work_mem: "32MB", no_such_knob: 1 }, "no_such_knob", /unknown knob/],
    [{ work_mem: "32MB", fsync: "off" }, "fsync", /protected/],
  ])("one invalid value (%j) → 400 naming %s, nothing applied", async (settings, knob, message) => {
    const before = autoConf();
    const res = await sendSigned(runner.url, key, { type: "apply_config", payload: { settings } });
    expect(res.status).toBe(400);
    expect(res.verified).toBe(true);
    expect(res.json).toMatchObject({ ok: false, reason: "invalid_config", details: [{ knob, message: expect.stringMatching(message) }] });
    expect(res.json.error).toContain(knob);
    expect(autoConf()).toBe(before);
    expect(await show("work_mem")).toBe("4MB");
    expect(await show("random_page_cost")).toBe("4");
  });

  it("every bad knob is named at once", async () => {
    const res = await sendSigned(runner.url, key, { type: "apply_config", payload: { settings: { work_mem: "-1", random_page_cost: "abc", nope: 1 } } });
    expect(res.status).toBe(400);
    expect((res.json.details as Array<{ knob: string }>).map((d) => d.knob).sort()).toEqual(["nope", "random_page_cost", "work_mem"]);
  });

  it("a malformed payload is a 400 naming the field", async () => {
    const res = await sendSigned(runner.url, key, { type: "apply_config", payload: { settings: { "work_mem' = '1": "1" } } });
    expect(res).toMatchObject({ status: 400, verified: true, json: { reason: "invalid_payload" } });
    expect(res.json.error).toMatch(/payload\.settings/);
    const notJson = await sendSigned(runner.url, key, "{not json");
    expect(notJson).toMatchObject({ status: 400, json: { reason: "invalid_json" } });
    // A command named by the protocol but not built yet (whichever is still missing).
    const unbuiltType = COMMAND_TYPES.find((t) => commandSpec(t) === undefined);
    if (unbuiltType) {
      const unbuilt = await sendSigned(runner.url, key, { type: unbuiltType, payload: {} });
      expect(unbuilt).toMatchObject({ status: 501, json: { reason: "not_implemented" } });
    }
  });

  it("restart-context knobs are skipped by default, written with restartKnobs=write", async () => {
    const skipped = await client.send("apply_config", { settings: { shared_buffers: "256MB", work_mem: "8MB" } });
    expect(skipped.result.skippedNeedsRestart).toEqual([{ name: "shared_buffers", value: "256MB", context: "postmaster" }]);
    expect(autoConf()).not.toMatch(/shared_buffers/);

    const written = await client.send("apply_config", { settings: { shared_buffers: "256MB" }, restartKnobs: "write" });
    expect(written.result.pendingRestart).toMatchObject([{ name: "shared_buffers", value: "256MB" }]);
    expect(autoConf()).toMatch(/^shared_buffers = '256MB'$/m);
    const read = await client.send("read_config", { knobs: ["shared_buffers"] });
    expect(read.result.settings[0]).toMatchObject({ pending_restart: true, display: "128MB" });

    await client.send("reset_config", {});
    expect(autoConf()).not.toMatch(/shared_buffers|work_mem/);
  });
});

describe("serialization and timeouts", () => {
  /** Holding pg_settings exclusively makes every read of it wait: a real slow target. */
  async function lockPgSettings(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: cluster.url() });
    await c.connect();
    await c.query("begin");
    await c.query("lock table pg_catalog.pg_settings in access exclusive mode");
    return c;
  }

  it("a command that outlives its timeout is answered 504 and stopped by the server", async () => {
    const holder = await lockPgSettings();
    try {
      const started = Date.now();
      const res = await sendSigned(runner.url, key, { type: "read_config", payload: {} });
      expect(res).toMatchObject({ status: 504, verified: true, json: { reason: "timeout" } });
      expect(Date.now() - started).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 100);
      expect(Date.now() - started).toBeLessThan(COMMAND_TIMEOUT_MS + 2_000);
    } finally {
      await holder.query("rollback");
      await holder.end();
    }
    // The runner's query was cancelled, not left waiting on the lock.
    const waiting = await cluster.query("select pid from pg_stat_activity where application_name = 'pg2une-runner' and state = 'active'");
    expect(waiting).toEqual([]);
  });

  it("two mutating commands on one target run one after the other", async () => {
    const holder = await lockPgSettings();
    const first = client.send("apply_config", { settings: { work_mem: "8MB" } });
    await new Promise((r) => setTimeout(r, 150));
    const second = client.send("apply_config", { settings: { work_mem: "16MB" } });
    await new Promise((r) => setTimeout(r, 300));
    await holder.query("rollback");
    await holder.end();
    const [a, b] = await Promise.all([first, second]);
    expect(Date.parse(b.startedAt)).toBeGreaterThanOrEqual(Date.parse(a.finishedAt));
    expect(await show("work_mem")).toBe("16MB");
    await client.send("reset_config", {});
  });
});
