/**
 * The canary path with everything real and local: the Worker (wrangler's unstable_dev, workerd)
 * with its Durable Object, pg2une's own PostgreSQL behind the WebSocket bridge, a runner process
 * with PgBouncer routing, a primary on 127.0.0.1, the canary it launches on 127.0.0.2, and
 * pgbench as the client — read-write through `rw`, read-only through `ro` (the share that moves).
 *
 * Scenarios (each on a fresh primary, PgBouncer and runner; pgbench -c 2 read-write on `rw`,
 * pgbench -S -c 4 on `ro`):
 *  1. POST /api/optimize knobs in canary mode, and the Worker (with its Durable Object)
 *     restarted mid-shift at 25 % → resumes, ends promoted or rolled_back with every step in the
 *     timeline, the measured shares and, when promoted, the switchover pause;
 *  2. random_page_cost = 10000 forced through the same path with default gates → the canary's
 *     primary-key lookups become sequential scans, it is slower on the same queries in the same
 *     window, and the run is rolled back at 5 % with that reason.
 * In both, pgbench reports 0 failed transactions across the whole run and traffic ends 100 % on
 * one node (PgBouncer's own SHOW DATABASES).
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

const HAVE_TOOLS =
  requireOrSkip(checkTool("pgbouncer", "Debian: apt-get install pgbouncer"), "rollout canary e2e") &&
  requireOrSkip(pgbenchPath() ? { ok: true } : { ok: false, why: "pgbench is not installed (Debian: apt-get install postgresql-client)" }, "rollout canary e2e");

/** Short windows: seconds per step. The defaults (30 s a step) stay production-sane. */
const TIMINGS = {
  sampleEveryMs: 2_000,
  baselineWindowMs: 4_000,
  settleMs: 500,
  canaryStepMs: 4_000,
  routeMeasureWindowMs: 1_000,
  verifyWindowMs: 2_000,
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

interface Scenario {
  name: string;
  fx: CanaryFixture;
  bouncer: TestPgbouncer;
  runner: RunnerProcess;
  loads: ChunkedLoad[];
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
    }
    await worker?.stop({ removeState: true });
    await bridge?.close();
    await db?.destroy();
  });

  async function scenario(prefix: string): Promise<Scenario> {
    const fx = await startCanaryFixture();
    pgbenchInit(fx.primary.url("postgres"), 1);
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
    const loads = [chunkedPgbench(bouncer.url("rw"), { clients: 2, threads: 1 }), chunkedPgbench(bouncer.url("ro"), { clients: 4, threads: 1, selectOnly: true })];
    const s: Scenario = { name, fx, bouncer, runner, loads };
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

  it("knobs in canary mode, the Worker (and its Durable Object) restarted mid-shift at 25 %: resumes, ends promoted or rolled back with every step and the measured shares; traffic on one node, 0 failed transactions", async () => {
    const s = await scenario("e2e-canary");
    // This run proves the path and the restart; whether a gate would stop it depends on a noisy
    // 2-core machine, so its gates are loose here. Gating is proven by the next test (a harmful
    // configuration, default thresholds) and by test/core/rollout.
    const loose = { maxCanaryLatencyRatio: 5, maxP99IncreasePct: 300, maxTpsDropPct: 80 };
    const started = await api<{ run_id: string }>(`/api/optimize?target=${s.name}`, { method: "POST", body: JSON.stringify({ action: "knobs", timings: TIMINGS, thresholds: loose }) });
    expect(started.status).toBe(202);
    let restartedAt: string | null = null;
    await waitForEnd(s.name, async (status) => {
      if (restartedAt === null && status.step?.startsWith("sample-canary-25")) {
        restartedAt = status.step;
        console.log(`[${s.name}] restarting the Worker at ${status.step}`);
        await worker.restart();
      }
    });
    const run = await runOf(started.body.run_id);
    console.log(`[${s.name}] timeline:\n  ${run.lines.join("\n  ")}`);
    const runnerTrouble = s.runner.logs().split("\n").filter((l) => /"level":"(error|warn)"/.test(l));
    if (runnerTrouble.length) console.log(`[${s.name}] runner warnings and errors:\n  ${runnerTrouble.slice(-20).join("\n  ")}`);
    expect(restartedAt, "the run reached 25 % and the Worker was restarted there").not.toBeNull();
    expect(["promoted", "rolled_back"]).toContain(run.outcome);
    const text = run.lines.join("\n");
    for (const step of [
      /reading the current configuration/,
      /measuring the baseline live/,
      /asking the optimizer for a configuration/,
      /optimizer proposed \d+ settings/,
      /launching the canary/,
      /canary (launched|already running) at 127\.0\.0\.\d+/,
      /canary configured/,
      /routed 5 %: planned share 5\.0 %, measured \d+\.\d %/,
      /gate canary: 5 %: pass/,
      /routed 25 %: planned share 25\.0 %, measured \d+\.\d %/,
    ])
      expect(text).toMatch(step);
    if (run.outcome === "promoted") {
      expect(text).toMatch(/routed 50 %: planned share 50\.0 %, measured \d+\.\d %/);
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

  it("a harmful configuration (random_page_cost = 10000: primary-key lookups become sequential scans) is rolled back with its reason", async () => {
    const s = await scenario("e2e-bad");
    const started = await api<{ run_id: string }>(`/api/optimize?target=${s.name}`, { method: "POST", body: JSON.stringify({ action: "knobs", force_config: { random_page_cost: "10000" }, timings: TIMINGS }) });
    expect(started.status).toBe(202);
    await waitForEnd(s.name);
    const run = await runOf(started.body.run_id);
    console.log(`[${s.name}] timeline:\n  ${run.lines.join("\n  ")}`);
    expect(run.outcome).toBe("rolled_back");
    expect(run.reason).toMatch(/^at 5 %: .*canary vs primary: canary latency \+\d+\.\d % vs primary/);
    const text = run.lines.join("\n");
    expect(text).toMatch(/forced configuration: random_page_cost = 10000/);
    expect(text).toMatch(/gate canary: 5 %: FAIL/);
    expect(text).toMatch(/all read-only traffic back on the primary/);
    expect(text).toMatch(/canary torn down; traffic is 100 % on the primary/);
    expect(text).not.toMatch(/routed 25 %/);
    await expectNoFailedTransactions(s);
    await expectTrafficOnOneNode(s);
  }, RUN_TIMEOUT_MS + 60_000);
});
