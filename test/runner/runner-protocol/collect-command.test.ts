/**
 * The `collect` command through a real runner process and a real PostgreSQL: a signed collect
 * returns a valid raw sample, a repeat of its command id returns the same sample from the brief
 * journal, "canary" is refused while no canary runs, an unsigned or forged collect never even
 * connects to the target (log_connections proves it), and a collect does not queue behind a
 * long mutating command while another mutating command does. With a (local) canary running,
 * node "canary" samples the standby, and after teardown it is refused again.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RawSampleSchema } from "../../../src/core/metrics";
import { parseKeyRing, type SigningKey } from "../../../src/protocol";
import { createRunnerClient, RunnerRejectedError, type RunnerClient } from "../../../src/runner-client";
import { CANARY_HOST, startCanaryFixture, type CanaryFixture } from "../../support/canary";
import { startTestCluster, type TestCluster } from "../../support/postgres";
import { startRunnerProcess, type RunnerProcess } from "../../support/runner-process";
import { sendSigned } from "../../support/signed-request";
import { TEST_RUNNER_KEYS } from "../../support/worker-constants";

const key = parseKeyRing(TEST_RUNNER_KEYS).get("test")!;
const COLLECT = { type: "collect", payload: { target: "shop" } };

let cluster: TestCluster;
let runner: RunnerProcess;
let client: RunnerClient;

/** Connections the runner opened to the target so far (its application_name, from log_connections). */
const runnerConnections = () => (readFileSync(cluster.logFile, "utf8").match(/connection authorized: .*application_name=pg2une-runner/g) ?? []).length;
const journalFiles = (dir: string) => readdirSync(join(runner.stateDir, dir)).filter((f) => f.endsWith(".json"));

beforeAll(async () => {
  cluster = await startTestCluster({ settings: { log_connections: "on" } });
  runner = await startRunnerProcess({ targetUrl: cluster.url(), keys: TEST_RUNNER_KEYS });
  client = createRunnerClient({ url: runner.url, key, retry: { maxAttempts: 1 } });
});
afterAll(async () => {
  await runner?.destroy();
  await cluster?.destroy();
});

describe("collect: refused requests do nothing", () => {
  it("unsigned, unknown key, wrong secret, tampered body → 401; the runner never connects to the target", async () => {
    const unsigned = await fetch(`${runner.url}/v1/commands`, { method: "POST", body: JSON.stringify(COLLECT) });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ ok: false, reason: "unsigned" });
    const stranger: SigningKey = { id: "stranger", secret: new Uint8Array(32).fill(1) };
    expect((await sendSigned(runner.url, stranger, COLLECT)).json).toMatchObject({ ok: false, reason: "unknown_key" });
    const impostor: SigningKey = { id: "test", secret: new Uint8Array(32).fill(2) };
    const forged = await sendSigned(runner.url, impostor, COLLECT);
    expect(forged).toMatchObject({ status: 401, json: { reason: "bad_signature" } });
    const tampered = await sendSigned(runner.url, key, COLLECT, { tamper: (req) => void (req.body[req.body.length - 3] = "x".charCodeAt(0)) });
    expect(tampered).toMatchObject({ status: 401, json: { reason: "bad_signature" } });
    await new Promise((r) => setTimeout(r, 300)); // let the server log flush
    expect(runnerConnections()).toBe(0);
    expect(journalFiles("journal-brief")).toEqual([]);
  });
});

describe("collect", () => {
  it("returns a raw sample of the target, named as the sender asked", async () => {
    const { result } = await client.send("collect", { target: "shop" });
    expect(RawSampleSchema.parse(result)).toEqual(result);
    expect(result.target).toBe("shop");
    expect(result.server.database).toBe("postgres");
    expect(result.statements.available).toBe(true);
    expect(Object.keys(result.settings)).toContain("work_mem");
    const defaults = await client.send("collect", {});
    expect(defaults.result.target).toBe("default");
    expect(runnerConnections()).toBeGreaterThanOrEqual(2);
  });

  it("a repeated command id returns the same sample from the brief journal, not a new one", async () => {
    const first = await client.send("collect", { target: "shop" }, { commandId: "collect-shop-1" });
    const again = await client.sendRaw({ type: "collect", payload: { target: "shop" } }, { commandId: "collect-shop-1" });
    expect(again.replay).toBe("replay");
    expect((again.body as { result: { sample_id: string } }).result.sample_id).toBe(first.result.sample_id);
    // Large, frequent answers go to the brief journal, never the durable one.
    expect(journalFiles("journal-brief").length).toBeGreaterThanOrEqual(1);
    expect(journalFiles("journal")).toEqual([]);
  });

  it('node "canary" without a canary → 409 no_canary', async () => {
    const err = await client.send("collect", { node: "canary" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunnerRejectedError);
    expect(err).toMatchObject({ status: 409, reason: "no_canary", verified: true });
    expect((err as Error).message).toContain("no canary is running on this runner");
  });

  it("a bad payload is a 400 naming the field", async () => {
    const res = await sendSigned(runner.url, key, { type: "collect", payload: { node: "replica" } });
    expect(res).toMatchObject({ status: 400, json: { reason: "invalid_payload" } });
    expect(res.json.error).toContain("payload.node");
    const extra = await sendSigned(runner.url, key, { type: "collect", payload: { nodes: "primary" } });
    expect(extra).toMatchObject({ status: 400, json: { reason: "invalid_payload" } });
  });

  it("does not wait behind a long mutating command; a second mutating command does", async () => {
    await cluster.query("create table orders (id int primary key, customer int)");
    const holder = new pg.Client({ connectionString: cluster.url() });
    await holder.connect();
    try {
      // CREATE INDEX CONCURRENTLY waits for this lock: create_index holds the runner's target queue meanwhile.
      await holder.query("begin; lock table orders in share mode");
      const settled: string[] = [];
      const creating = client
        .send("create_index", { indexes: [{ schema: "public", table: "orders", columns: ["customer"], queryIds: ["1"] }], thresholds: { measureWindowMs: 100, lockTimeoutMs: 60_000 } })
        .finally(() => settled.push("create_index"));
      await waitFor(async () => (await cluster.query("select 1 from pg_locks where relation = 'orders'::regclass and not granted")).length > 0);
      const applying = client.send("apply_config", { settings: { work_mem: "8MB" } }).finally(() => settled.push("apply_config"));

      const started = Date.now();
      const { result } = await client.send("collect", { target: "shop" });
      settled.push("collect");
      expect(result.activity.waiting_on_locks).toBeGreaterThanOrEqual(1); // the index build, seen by the collect
      expect(Date.now() - started).toBeLessThan(5_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(settled).toEqual(["collect"]); // both mutating commands still queued or running

      await holder.query("rollback");
      await Promise.all([creating, applying]);
      expect(settled).toEqual(["collect", "create_index", "apply_config"]);
    } finally {
      await holder.end();
      await client.send("reset_config", {}).catch(() => undefined);
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('collect node "canary" with a canary running', () => {
  let fx: CanaryFixture;
  let canaryRunner: RunnerProcess;
  let canaryClient: RunnerClient;

  beforeAll(async () => {
    fx = await startCanaryFixture();
    canaryRunner = await startRunnerProcess({ targetUrl: fx.primary.url("postgres"), keys: TEST_RUNNER_KEYS, stateDir: fx.stateDir });
    canaryClient = createRunnerClient({ url: canaryRunner.url, key, retry: { maxAttempts: 1 } });
  });
  afterAll(async () => {
    await canaryRunner?.destroy();
    await fx?.cleanup();
  });

  it("samples the canary (a standby of the primary) until it is torn down", async () => {
    const launched = await canaryClient.send("launch_canary", {});
    expect(launched.result).toMatchObject({ launched: true, canary: { host: CANARY_HOST } });
    const canary = await canaryClient.send("collect", { node: "canary", target: "shop" });
    const primary = await canaryClient.send("collect", { node: "primary", target: "shop" });
    expect(canary.result.server.in_recovery).toBe(true);
    expect(primary.result.server.in_recovery).toBe(false);
    // The same cluster (a physical copy), another server process.
    expect(canary.result.server.system_identifier).toBe(primary.result.server.system_identifier);
    expect(canary.result.server.postmaster_start_time).not.toBe(primary.result.server.postmaster_start_time);
    expect(canary.result.wal_lsn_bytes).toBeNull(); // no WAL position of its own on a standby

    await canaryClient.send("teardown_canary", {});
    await expect(canaryClient.send("collect", { node: "canary" })).rejects.toMatchObject({ status: 409, reason: "no_canary" });
  });
});

