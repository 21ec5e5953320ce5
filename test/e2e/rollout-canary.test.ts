/**
 * The canary path with everything real and local: the Worker (wrangler's unstable_dev, workerd)
 * with its Durable Object, pg2une's own PostgreSQL behind the WebSocket bridge, a runner process
 * with PgBouncer routing, a primary on 127.0.0.1, the canary it launches on 127.0.0.2, and
 * pgbench as the client — read-write through `rw`, read-only through `ro` (the share that moves).
 *
 * Scenarios (each on a fresh primary, PgBouncer and runner):
 *  1. POST /api/optimize knobs in canary mode → promoted or rolled_back, every step in the
 *     timeline with the measured shares (and the switchover pause when promoted);
 *  2. work_mem = 64kB forced through the same path, with a sort-heavy read-only load → the
 *     canary is slower on the same queries and the run is rolled back with that reason;
 *  3. the Worker (and its Durable Object) restarted mid-shift at 25 % → resumes or rolls back,
 *     and traffic ends 100 % on one node.
 * In every scenario pgbench reports 0 failed transactions across the whole run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBridge, type RunningBridge } from "../../runner/bridge/ws-tcp-bridge";
import { migrateDatabase } from "../../runner/db/migrate";
import { show } from "../../runner/pgbouncer/admin";
import { PRIMARY_HOST, startCanaryFixture, startRoutingPgbouncer, type CanaryFixture } from "../support/canary";
import type { TestPgbouncer } from "../support/pgbouncer";
import { pgbenchInit, pgbenchPath, pgbenchSummary, startPgbench, type PgbenchOptions, type PgbenchRun, type PgbenchSummary } from "../support/pgbench";
import { startTestCluster, type TestCluster } from "../support/postgres";
import { startRunnerProcess, type RunnerProcess } from "../support/runner-process";
import { checkTool, requireOrSkip } from "../support/tools";
import { TEST_API_TOKEN, TEST_RUNNER_KEYS } from "../support/worker-constants";
import { startWorkerDev, type WorkerDev } from "../support/worker-dev";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const HAVE_TOOLS =
  requireOrSkip(checkTool("pgbouncer", "Debian: apt-get install pgbouncer"), "rollout canary e2e") &&
  requireOrSkip(pgbenchPath() ? { ok: true } : { ok: false, why: "pgbench is not installed (Debian: apt-get install postgresql-client)" }, "rollout canary e2e");

/** Short windows: seconds per step. The defaults (30 s a step) stay production-sane. */
const TIMINGS = {
  sampleEveryMs: 2_000,
  baselineWindowMs: 4_000,
  settleMs: 1_000,
  canaryStepMs: 4_000,
  routeMeasureWindowMs: 2_000,
  verifyWindowMs: 4_000,
  stepTimeoutMs: 60_000,
  resumeCheckMs: 2_000,
};
const RUN_TIMEOUT_MS = 150_000;
/**
 * pgbench runs in back-to-back chunks of this many seconds until the test stops it, so the
 * whole run is covered by pgbench's own totals (failed transactions, aborted clients) without
 * guessing the run's length up front; stopping waits for the current chunk to finish.
 */
const CHUNK_SECONDS = 5;
const SORT_SCRIPT = "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM rd_sort;\n";

interface Scenario {
  name: string;
  fx: CanaryFixture;
  bouncer: TestPgbouncer;
  runner: RunnerProcess;
  loads: ChunkedLoad[];
  scriptDir: string;
}

interface ChunkedLoad {
  /** Stops after the current chunk; every chunk's summary. */
  finish(): Promise<PgbenchSummary[]>;
  /** Kills the current chunk (cleanup only). */
  kill(): Promise<void>;
}

function chunkedPgbench(url: string, opts: Omit<PgbenchOptions, "seconds">): ChunkedLoad {
  const summaries: PgbenchSummary[] = [];
  let stopping = false;
  let current: PgbenchRun | undefined;
  const loop = (async () => {
    while (!stopping) {
      current = startPgbench(url, { ...opts, seconds: CHUNK_SECONDS });
      summaries.push(pgbenchSummary(await current.done));
    }
  })();
  return {
    async finish() {
      stopping = true;
      await loop;
      return summaries;
    },
    async kill() {
      stopping = true;
      await current?.stop();
      await loop.catch(() => undefined);
    },
  };
}

describe.runIf(HAVE_TOOLS)("canary rollout end to end (Worker + DO + runner + PgBouncer + pgbench)", () => {
  let db: TestCluster;
  let bridge: RunningBridge;
  let worker: WorkerDev;
  const scenarios: Scenario[] = [];
  const headers = { authorization: `Bearer ${TEST_API_TOKEN}`, "content-type": "application/json" };
  const api = async <T = Record<string, unknown>>(path: string, init: RequestInit = {}) => {
    const res = await fetch(`${worker.url}${path}`, { ...init, headers });
    return { status: res.status, body: (await res.json()) as T };
  };

  let vars: Record<string, string>;
  beforeAll(async () => {
    db = await startTestCluster();
    await db.query("create database pg2une");
    await migrateDatabase(db.url("pg2une"));
    bridge = await startBridge();
    vars = {
      DATABASE_URL: db.url("pg2une"),
      NEON_WS_PROXY: bridge.proxy,
      PG2UNE_API_TOKEN: TEST_API_TOKEN,
      PG2UNE_RUNNER_KEYS: TEST_RUNNER_KEYS,
      ALLOW_FORCED_CONFIG: "true",
    };
    worker = await startWorkerDev({ vars, keepState: true });
  }, 180_000);

  afterAll(async () => {
    for (const s of scenarios) {
      for (const l of s.loads) await l.kill();
      await s.runner.destroy();
      await s.bouncer.destroy();
      await s.fx.cleanup();
      rmSync(s.scriptDir, { recursive: true, force: true });
    }
    await worker?.stop({ removeState: true });
    await bridge?.close();
    await db?.destroy();
  });

  async function scenario(prefix: string, readLoad: "select" | "sort"): Promise<Scenario> {
    const fx = await startCanaryFixture();
    pgbenchInit(fx.primary.url("postgres"), 1);
    await fx.primary.query("create table rd_sort (v float8)");
    await fx.primary.query("insert into rd_sort select random() from generate_series(1, 40000)");
    await fx.primary.query("analyze rd_sort");
    const { bouncer } = await startRoutingPgbouncer({ host: PRIMARY_HOST, port: fx.primary.port });
    const runner = await startRunnerProcess({
      targetUrl: fx.primary.url("postgres"),
      keys: TEST_RUNNER_KEYS,
      stateDir: fx.stateDir,
      env: { PG2UNE_PGBOUNCER_DIR: bouncer.config.dir, PG2UNE_PGBOUNCER_LISTEN: `${bouncer.host}:${bouncer.port}` },
    });
    const name = `${prefix}-${crypto.randomUUID().slice(0, 6)}`;
    const created = await api("/api/targets", { method: "POST", body: JSON.stringify({ name, runner_url: runner.url, runner_key_id: "test", mode: "canary", total_ram_mb: 2048, cpus: 2, storage: "ssd" }) });
    expect(created.status).toBe(201);
    const scriptDir = mkdtempSync(join(tmpdir(), "pg2une-e2e-script-"));
    const sortFile = join(scriptDir, "sort.sql");
    writeFileSync(sortFile, SORT_SCRIPT);
    const loads = [
      chunkedPgbench(bouncer.url("rw"), { clients: 2, threads: 1 }),
      readLoad === "select"
        ? chunkedPgbench(bouncer.url("ro"), { clients: 4, threads: 1, selectOnly: true })
        : chunkedPgbench(bouncer.url("ro"), { clients: 4, threads: 1, script: sortFile }),
    ];
    const s: Scenario = { name, fx, bouncer, runner, loads, scriptDir };
    scenarios.push(s);
    await new Promise((r) => setTimeout(r, 2_000));
    return s;
  }

  async function waitForEnd(target: string, onPoll?: (status: { step: string | null; state: string }) => Promise<void>) {
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    for (;;) {
      const { body } = await api<{ busy: boolean; state: string; step: string | null; unflushed_records: number }>(`/api/status?target=${target}`).catch(() => ({ body: null }));
      if (body) {
        await onPoll?.(body);
        if (!body.busy && body.unflushed_records === 0) return body;
      }
      if (Date.now() > deadline) throw new Error(`run on ${target} did not end in time: ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  async function runOf(id: string) {
    const { status, body } = await api<{
      outcome: string;
      reason: string | null;
      improvement_pct: number | null;
      details: { canary: { steps: Array<{ pct: number; measuredShare: number | null }>; switchover: { pauseMs: number } | null } };
      events: Array<{ kind: string; state: string; message: string }>;
    }>(`/api/optimization/${id}`);
    expect(status).toBe(200);
    return { ...body, lines: body.events.map((e) => `${e.kind} ${e.state}: ${e.message}`) };
  }

  /** pgbench's own verdict over the whole scenario: no failed transaction, no aborted client, in any chunk. */
  async function expectNoFailedTransactions(s: Scenario) {
    for (const [i, load] of s.loads.entries()) {
      const chunks = await load.finish();
      const total = (k: "processed" | "failed" | "abortedClients") => chunks.reduce((n, c) => n + c[k], 0);
      console.log(`[${s.name}] pgbench ${i === 0 ? "rw" : "ro"}: ${chunks.length} chunks, processed ${total("processed")}, failed ${total("failed")}, aborted clients ${total("abortedClients")}`);
      for (const bench of chunks) expect(bench, bench.output).toMatchObject({ exitCode: 0, failed: 0, abortedClients: 0 });
    }
  }

  /** Ground truth from PgBouncer itself: every read-only slot points at one and the same node. */
  async function expectTrafficOnOneNode(s: Scenario) {
    const dbs = await show(s.bouncer.adminUrl, "DATABASES");
    const ro = dbs.find((d) => d.name === "ro")!;
    const rw = dbs.find((d) => d.name === "rw")!;
    const hosts = new Set(String(ro.host).split(","));
    expect(hosts.size, `ro hosts: ${ro.host}`).toBe(1);
    expect([...hosts][0]).toBe(rw.host);
  }

  it("knobs in canary mode: 5 → 25 → 50 % with measured shares, then promoted (or rolled back), 0 failed transactions", async () => {
    const s = await scenario("e2e-canary", "select");
    const started = await api<{ run_id: string }>(`/api/optimize?target=${s.name}`, { method: "POST", body: JSON.stringify({ action: "knobs", timings: TIMINGS }) });
    expect(started.status).toBe(202);
    await waitForEnd(s.name);
    const run = await runOf(started.body.run_id);
    console.log(`[${s.name}] timeline:\n  ${run.lines.join("\n  ")}`);
    expect(["promoted", "rolled_back"]).toContain(run.outcome);
    const text = run.lines.join("\n");
    for (const step of [/launching the canary/, /canary (launched|already running) at 127\.0\.0\.\d+/, /configuring the canary/, /canary configured/, /routed 5 %: planned share 5\.0 %, measured/])
      expect(text).toMatch(step);
    if (run.outcome === "promoted") {
      for (const pct of [25, 50]) expect(text).toMatch(new RegExp(`routed ${pct} %: planned share ${pct}\\.0 %, measured \\d+\\.\\d %`));
      expect(text).toMatch(/switchover done: clients paused \d+ ms/);
      expect(run.details.canary.steps.map((c) => c.pct)).toEqual([5, 25, 50]);
      for (const c of run.details.canary.steps) expect(c.measuredShare).not.toBeNull();
      expect(run.details.canary.switchover!.pauseMs).toBeLessThan(2_000);
      expect(run.improvement_pct).not.toBeNull();
    } else {
      expect(text).toMatch(/rolling back/);
      expect(text).toMatch(/canary torn down; traffic is 100 % on the primary/);
    }
    await expectNoFailedTransactions(s);
    await expectTrafficOnOneNode(s);
  }, RUN_TIMEOUT_MS + 60_000);

  it("a harmful configuration (work_mem = 64kB under a sort-heavy read load) is rolled back with its reason", async () => {
    const s = await scenario("e2e-bad", "sort");
    const started = await api<{ run_id: string }>(`/api/optimize?target=${s.name}`, { method: "POST", body: JSON.stringify({ action: "knobs", force_config: { work_mem: "64kB" }, timings: TIMINGS, thresholds: { minCanaryCalls: 10 } }) });
    expect(started.status).toBe(202);
    await waitForEnd(s.name);
    const run = await runOf(started.body.run_id);
    console.log(`[${s.name}] timeline:\n  ${run.lines.join("\n  ")}`);
    expect(run.outcome).toBe("rolled_back");
    expect(run.reason).toMatch(/at \d+ %: .*(canary vs primary: canary latency \+\d+\.\d %|vs baseline)/);
    const text = run.lines.join("\n");
    expect(text).toMatch(/forced configuration: work_mem = 64kB/);
    expect(text).toMatch(/gate canary: \d+ %: FAIL/);
    expect(text).toMatch(/all read-only traffic back on the primary/);
    expect(text).toMatch(/canary torn down/);
    await expectNoFailedTransactions(s);
    await expectTrafficOnOneNode(s);
  }, RUN_TIMEOUT_MS + 60_000);

  it("the Worker and its Durable Object restarted mid-shift at 25 % → resumes or rolls back; traffic ends on one node", async () => {
    const s = await scenario("e2e-crash", "select");
    // This test is about resuming, not judging: gates loose enough that the run reaches 25 %.
    const loose = { maxCanaryLatencyRatio: 5, maxP99IncreasePct: 300, maxTpsDropPct: 80 };
    const started = await api<{ run_id: string }>(`/api/optimize?target=${s.name}`, { method: "POST", body: JSON.stringify({ action: "knobs", timings: TIMINGS, thresholds: loose }) });
    expect(started.status).toBe(202);
    let restarted = false;
    await waitForEnd(s.name, async (status) => {
      if (!restarted && status.step?.startsWith("sample-canary-25")) {
        restarted = true;
        console.log(`[${s.name}] restarting the Worker at ${status.step}`);
        await worker.restart();
      }
    });
    const run = await runOf(started.body.run_id);
    console.log(`[${s.name}] timeline:\n  ${run.lines.join("\n  ")}`);
    expect(restarted).toBe(true);
    expect(["promoted", "rolled_back"]).toContain(run.outcome);
    expect(run.lines.join("\n")).toMatch(/routed 25 %/);
    await expectNoFailedTransactions(s);
    await expectTrafficOnOneNode(s);
  }, RUN_TIMEOUT_MS + 60_000);
});
