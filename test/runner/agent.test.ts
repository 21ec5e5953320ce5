/**
 * `pg2une agent` as a real process pushing to the real Worker (wrangler's unstable_dev: bundled
 * src/index.ts in workerd) whose database is a real PostgreSQL behind the WebSocket bridge. The
 * agent samples the same cluster's `postgres` database. Covers delivery, a Worker-side outage
 * (its database unreachable) bridged by retrying the same sample id, and a clean SIGTERM stop.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MetricsItemSchema, type RawSample } from "../../src/core/metrics";
import { parseKeyRing } from "../../src/protocol";
import { SampleBuffer } from "../../runner/agent/buffer";
import { createIngestPusher, ingestEndpoint } from "../../runner/agent/push";
import { startBridge, type RunningBridge } from "../../runner/bridge/ws-tcp-bridge";
import { migrateDatabase } from "../../runner/db/migrate";
import { startTestCluster, type TestCluster } from "../support/postgres";
import { sample } from "../support/metrics-fixtures";
import { TEST_API_TOKEN, TEST_RUNNER_KEYS } from "../support/worker-constants";
import { startWorkerDev, type WorkerDev } from "../support/worker-dev";

const BIN = fileURLToPath(new URL("../../runner/bin/pg2une.js", import.meta.url));
const TARGET = "vm1";

let cluster: TestCluster;
let bridge: RunningBridge;
let worker: WorkerDev;
const agents = new Set<ChildProcess>();

beforeAll(async () => {
  cluster = await startTestCluster();
  await cluster.query("create database pg2une");
  await migrateDatabase(cluster.url("pg2une"));
  bridge = await startBridge();
  worker = await startWorkerDev({
    vars: {
      DATABASE_URL: cluster.url("pg2une"),
      NEON_WS_PROXY: bridge.proxy,
      PG2UNE_API_TOKEN: TEST_API_TOKEN,
      PG2UNE_RUNNER_KEYS: TEST_RUNNER_KEYS,
      TARGET_NAME: TARGET,
    },
  });
});
afterAll(async () => {
  for (const a of agents) a.kill("SIGKILL");
  await worker?.stop();
  await bridge?.close();
  await cluster?.destroy();
});

interface AgentRun {
  child: ChildProcess;
  /** JSON log lines so far. */
  events(): Array<Record<string, unknown> & { event: string }>;
  exited: Promise<number | null>;
  waitFor(event: string, where?: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

function startAgent(args: string[]): AgentRun {
  const child = spawn(process.execPath, [BIN, "agent", "--push", worker.url, "--target", TARGET, "--url", cluster.url("postgres"), ...args], {
    env: { ...process.env, PG2UNE_RUNNER_KEYS: TEST_RUNNER_KEYS },
    stdio: ["ignore", "pipe", "pipe"],
  });
  agents.add(child);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => (agents.delete(child), resolve(code))));
  const events = () =>
    stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown> & { event: string });
  return {
    child,
    events,
    exited,
    async waitFor(event, where = () => true) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const hit = events().find((e) => e.event === event && where(e));
        if (hit) return hit;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`agent never logged ${event}:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

const agentRows = (ids: string[]) =>
  cluster.query<{ sample_id: string; source: string }>("select sample_id, source from raw_samples where target = $1 and sample_id = any($2)", [TARGET, ids], "pg2une");

describe("pg2une agent → POST /api/ingest on a real Worker", () => {
  it("pushes --count signed samples, each stored once, and the API serves the derived snapshot", async () => {
    // 1.5 s: comfortably above MIN_WINDOW_SECONDS (1 s), so every window gets rates.
    const agent = startAgent(["--interval", "1.5", "--count", "3"]);
    expect(await agent.exited).toBe(0);
    const pushed = agent.events().filter((e) => e.event === "sample_pushed");
    expect(pushed.map((e) => e.status)).toEqual(["stored", "stored", "stored"]);
    const ids = pushed.map((e) => String(e.sample_id));
    expect(await agentRows(ids)).toHaveLength(3);
    expect((await agentRows(ids)).every((r) => r.source === "agent")).toBe(true);
    expect(agent.events().at(-1)).toMatchObject({ event: "agent_stopped", stoppedBy: "count", stored: 3, unsent: 0, rejected: 0 });

    const res = await fetch(`${worker.url}/api/metrics?target=${TARGET}`, { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });
    expect(res.status).toBe(200);
    const snapshot = MetricsItemSchema.parse(((await res.json()) as { snapshot: unknown }).snapshot);
    expect(snapshot.sample_id).toBe(ids[2]);
    expect(snapshot.window_issue).toBeNull();
    expect(snapshot.tps).toBeGreaterThan(0); // the agent's own collect transactions, at least
  });

  it("rides out a Worker-side outage: the same sample id is pushed again (freshly signed) and stored once", async () => {
    const port = bridge.port;
    await bridge.close(); // the Worker cannot reach its database: ingest answers 503
    const agent = startAgent(["--interval", "1", "--count", "2"]);
    const failed = await agent.waitFor("push_failed");
    expect(failed).toMatchObject({ http_status: 503, reason: "store_unavailable" });
    bridge = await startBridge({ port });
    expect(await agent.exited).toBe(0);
    const id = String(failed.sample_id);
    const deliveries = agent.events().filter((e) => e.sample_id === id).map((e) => e.event);
    expect(deliveries[0]).toBe("push_failed");
    expect(deliveries.at(-1)).toBe("sample_pushed");
    expect(agent.events().find((e) => e.event === "sample_pushed" && e.sample_id === id)).toMatchObject({ status: "stored" });
    expect(await agentRows([id])).toHaveLength(1);
    expect(agent.events().filter((e) => e.event === "sample_pushed")).toHaveLength(2);
  });

  it("stops cleanly on SIGTERM (exit 0, a final agent_stopped line)", async () => {
    const agent = startAgent(["--interval", "1"]);
    await agent.waitFor("sample_pushed");
    const stopAt = Date.now();
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(5_000);
    expect(agent.events().at(-1)).toMatchObject({ event: "agent_stopped", stoppedBy: "signal" });
  });

  it("bad arguments are a usage error on stderr, exit 2, nothing started", async () => {
    const child = spawn(process.execPath, [BIN, "agent", "--push", worker.url, "--interval", "5"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(stderr).toContain("--target <name> is required");
  });
});

describe("the agent's parts", () => {
  const key = parseKeyRing(TEST_RUNNER_KEYS).get("test")!;

  it("the pusher's verdicts from the real Worker: stored, duplicate, rejected for good, retry on key trouble", async () => {
    const pusher = createIngestPusher({ apiUrl: worker.url, key });
    const s: RawSample = { ...sample({ at: Date.now() - 3_600_000 }), target: TARGET };
    expect(await pusher.push(s)).toMatchObject({ kind: "accepted", status: "stored" });
    expect(await pusher.push(s)).toMatchObject({ kind: "accepted", status: "duplicate" });
    const malformed = { ...s, sample_id: `${s.sample_id}-x`, database: { ...s.database, xact_commit: -1 } } as RawSample;
    expect(await pusher.push(malformed)).toMatchObject({ kind: "rejected", httpStatus: 400, reason: "invalid_sample" });
    const unknown = { ...s, sample_id: `${s.sample_id}-y`, target: "elsewhere" };
    expect(await pusher.push(unknown)).toMatchObject({ kind: "retry", httpStatus: 404, reason: "unknown_target" });
    const impostor = createIngestPusher({ apiUrl: worker.url, key: { id: "test", secret: new Uint8Array(32).fill(7) } });
    expect(await impostor.push({ ...s, sample_id: `${s.sample_id}-z` })).toMatchObject({ kind: "retry", httpStatus: 401, reason: "bad_signature" });
    const nobody = createIngestPusher({ apiUrl: "http://127.0.0.1:9", key });
    expect(await nobody.push(s)).toMatchObject({ kind: "retry", httpStatus: null, reason: "unreachable" });
  });

  it("ingestEndpoint keeps a path prefix and accepts the full URL", () => {
    expect(ingestEndpoint("https://api.example/").href).toBe("https://api.example/api/ingest");
    expect(ingestEndpoint("https://example/pg2une").href).toBe("https://example/pg2une/api/ingest");
    expect(ingestEndpoint("https://api.example/api/ingest").href).toBe("https://api.example/api/ingest");
  });

  it("the buffer keeps the newest samples, oldest out first", () => {
    const buffer = new SampleBuffer<number>(2);
    expect(buffer.add(1)).toBeUndefined();
    expect(buffer.add(2)).toBeUndefined();
    expect(buffer.add(3)).toBe(1);
    expect([buffer.shift(), buffer.shift(), buffer.shift()]).toEqual([2, 3, undefined]);
    expect(() => new SampleBuffer(0)).toThrow(RangeError);
  });
});
