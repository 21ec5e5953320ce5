/**
 * The autonomy acceptance test: pg2une notices, decides and starts a run with nobody asking.
 * Everything is real and local: the Worker (wrangler's unstable_dev, workerd) whose scheduled()
 * handler is invoked every TICK_MS through /__scheduled, its Durable Object, pg2une's own
 * PostgreSQL behind the WebSocket bridge, a runner process, a target PostgreSQL and pgbench
 * (range reads through the primary key, throttled to a fixed rate) as the load. Each tick is a
 * real collect.
 *
 * Shortened, as tests may: the tick interval (TICK_MS instead of a minute) and the rollout's step
 * timings. Detection runs with its production settings (a CUSUM reference of 60 ticks); the
 * rules' 300 s cooldown is the real one. A 20-tick reference, used here before, made the steady
 * phase flaky: from 20 points the baseline's σ is often low enough to shorten the in-control run
 * length sharply. By simulation with the real baseline and CUSUM code, one metric false-alarms
 * within 30 monitored ticks 21 % of the time on Gaussian noise (33 % on t₅ noise) with 20
 * points, 12 % (25 %) with 60; in CI the loop then saw tps and p99 "degrade" together on a steady
 * load and started a run.
 *
 *  (a) steady load: ≥ 30 ticks with every CUSUM monitoring start no run;
 *  (b) degradation: enable_indexscan = off and enable_bitmapscan = off (ALTER SYSTEM + reload,
 *      reload context, untouched by the optimizer) turn every range read into a sequential scan
 *      of the whole table: latency climbs by one to two orders of magnitude. CUSUM fires and
 *      the cron loop starts a run on its own within 5 ticks of the first tick where CUSUM fired;
 *  (c) after the run ends, the degradation still in place, ticks during the cooldown start no
 *      run: the rules' suppress_action() holds and the object refuses (409 cooldown).
 * The decision that started the run is replayed through `pg2une rules` with the facts it saw: the
 * CLI derives the same action. The timeline (tick → CUSUM state, confidence, decision) is printed.
 *
 * What a reader of the timeline should know: the degraded plan also changes the workload class
 * (statements now take tens of ms and read thousands of blocks), and a confirmed workload shift
 * restarts detection's baselines — so right after the run the loop says "too little history
 * since the workload shift" while the cooldown also holds.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { getPriority, setPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBridge, type RunningBridge } from "../../runner/bridge/ws-tcp-bridge";
import { migrateDatabase } from "../../runner/db/migrate";
import { DEFAULT_DETECT_CONFIG } from "../../src/core/detect/config";
import { chooseAction } from "../../src/decide/choose-action";
import type { TickDecision } from "../../src/decide/tick-decision";
import { pgbenchInit, pgbenchPath, pgbenchSummary, startPgbench, type PgbenchRun } from "../support/pgbench";
import { startTestCluster, type TestCluster } from "../support/postgres";
import { startRunnerProcess, type RunnerProcess } from "../support/runner-process";
import { requireOrSkip } from "../support/tools";
import { TEST_API_TOKEN, TEST_RUNNER_KEYS } from "../support/worker-constants";
import { startWorkerDev, type WorkerDev } from "../support/worker-dev";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const HAVE_PGBENCH = requireOrSkip(pgbenchPath() ? { ok: true } : { ok: false, why: "pgbench is not installed (Debian: apt-get install postgresql-client)" }, "autonomy e2e");

const TARGET = "auto";
/** One tick every 2 s: samples ≥ 1.5 s apart, and 4 clients spread pg_stat_database's 1 s flushes. */
const TICK_MS = 2_000;
/** Detection's own reference window (ticks); the test does not shorten it. */
const REFERENCE = DEFAULT_DETECT_CONFIG.cusum.referenceSize;
/**
 * Load before the first tick: pgbench -R catches up on its schedule after starting, and the first
 * windows' tps and p99 would sit in the reference as a level the steady load never returns to.
 */
const LOAD_WARMUP_MS = 10_000;
/** (a): ticks with every CUSUM monitoring (past its reference window). */
const STEADY_MONITORED_TICKS = 30;
/** (b): the run must start within this many ticks of the first tick where CUSUM fired. */
const START_WITHIN_TICKS = 5;
/**
 * The run (direct mode, TIMINGS below; ~6 ticks here) must end within this long after the tick
 * that started it: the 170 s from the test's start it had before left it ~65 s.
 */
const RUN_BUDGET_MS = 60_000;
/** (c): ticks after the run ended. */
const COOLDOWN_TICKS = 5;
const TIMINGS = {
  sampleEveryMs: 2_000,
  baselineLookbackMs: 10_000,
  baselineWindowMs: 6_000,
  settleMs: 1_000,
  directStabilizationMs: 6_000,
  stepTimeoutMs: 60_000,
  resumeCheckMs: 2_000,
};
/**
 * The load: 4 pgbench clients throttled to 100 transactions a second (steady by construction
 * until the database cannot keep up), each a range read of 2 000 accounts through the primary key
 * (≈ 0.4 ms of execution). Not a single-row lookup: a 20 µs statement's window p99 is set by
 * whichever few executions the scheduler preempted, which on a shared machine is noise, not the
 * database. 200 accounts (≈ 0.09 ms) were still too light on a noisy day: p99 and tps moved
 * together with the host and the steady phase started a run in 2 of 4 runs with a 20-tick
 * reference, 1 of 4 with the production one; with 2 000 accounts, 0 of 3.
 * Degraded (no index scans), each read is a sequential scan of 300 000 rows that bypasses
 * shared buffers (ring buffer): tps falls below the offered rate, p99 climbs, the hit ratio drops.
 */
const LOAD = { clients: 4, threads: 2, rate: 100, scale: 3 };
const SCRIPT = "\\set aid random(1, 300000 - 2000)\nSELECT sum(abalance) FROM pgbench_accounts WHERE aid BETWEEN :aid AND :aid + 1999;\n";
const METRICS = ["tps", "latency_p99", "buffer_hit_ratio"] as const;
/**
 * This test's processes (and every process it starts: both clusters, the runner, workerd,
 * pgbench) run at this niceness, so that unrelated work on a shared 2-core machine (other test
 * files, other people's jobs) does not become the very degradation pg2une is meant to detect —
 * measured here at the default niceness with the machine's load at 5–10: p99 crept up and tps
 * blipped during the "steady" phase and the loop rightly started a run. Everything under test
 * keeps the same priority relative to each other.
 */
const TEST_NICENESS = -10;

interface Row {
  n: number;
  phase: "steady" | "degraded" | "run" | "after";
  decision: Omit<TickDecision, "at"> & { at: string };
  state: string;
  busy: boolean;
  cooldownLeft: number;
}

describe.runIf(HAVE_PGBENCH)("autonomy: the cron loop detects, decides and starts a run on its own", () => {
  let db: TestCluster;
  let target: TestCluster;
  let bridge: RunningBridge;
  let runner: RunnerProcess;
  let worker: WorkerDev;
  let load: PgbenchRun | undefined;
  let scriptDir: string | undefined;
  const headers = { authorization: `Bearer ${TEST_API_TOKEN}` };
  const api = async <T = Record<string, unknown>>(path: string) => {
    const res = await fetch(`${worker.url}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as T };
  };

  let niceness: number | undefined;
  beforeAll(async () => {
    try {
      niceness = getPriority();
      setPriority(TEST_NICENESS); // children inherit it
    } catch (err) {
      console.warn(`autonomy e2e: could not raise the test's priority (${(err as Error).message}); a busy machine may read as a degradation`);
    }
    db = await startTestCluster();
    await db.query("create database pg2une");
    await migrateDatabase(db.url("pg2une"));
    bridge = await startBridge();
    target = await startTestCluster();
    pgbenchInit(target.url("postgres"), LOAD.scale);
    // Everything the load reads in shared buffers before the first tick, and no checkpoint of
    // the initial load in the middle of the steady phase: the hit ratio's CUSUM (k = 0.3, h = 3,
    // σ floor 0.1 %) would read a cache still warming up as a drop.
    await target.query("create extension if not exists pg_prewarm");
    await target.query("select pg_prewarm('pgbench_accounts'), pg_prewarm('pgbench_accounts_pkey')");
    await target.query("checkpoint");
    scriptDir = mkdtempSync(join(tmpdir(), "pg2une-autonomy-load-"));
    writeFileSync(join(scriptDir, "range.sql"), SCRIPT);
    runner = await startRunnerProcess({ targetUrl: target.url("postgres"), keys: TEST_RUNNER_KEYS });
    worker = await startWorkerDev({
      testScheduled: true,
      vars: {
        DATABASE_URL: db.url("pg2une"),
        NEON_WS_PROXY: bridge.proxy,
        PG2UNE_API_TOKEN: TEST_API_TOKEN,
        PG2UNE_RUNNER_KEYS: TEST_RUNNER_KEYS,
        TARGET_NAME: TARGET,
        TARGET_MODE: "direct",
        RUNNER_URL: runner.url,
        RUNNER_KEY_ID: "test",
        TOTAL_RAM_MB: "2048",
        ROLLOUT_TIMINGS: JSON.stringify(TIMINGS),
      },
    });
  }, 180_000);

  afterAll(async () => {
    await load?.stop();
    await worker?.stop({ removeState: true });
    await runner?.destroy();
    await bridge?.close();
    await target?.destroy();
    await db?.destroy();
    if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
    if (niceness !== undefined) setPriority(niceness);
  });

  const rows: Row[] = [];

  let lastDecisionAt: string | null = null;

  /** Invokes scheduled() once and returns the decision the object recorded for that tick. */
  async function tick(phase: Row["phase"]): Promise<Row> {
    const began = Date.now();
    // wrangler's /__scheduled takes the tick's time from its own clock (a ?time= is not honoured).
    const res = await fetch(`${worker.url}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
    expect(res.status, await res.text()).toBe(200);
    for (let i = 0; ; i++) {
      const { body } = await api<{ state: string; busy: boolean; cooldown_left_seconds: number; last_decision: Row["decision"] | null }>(`/api/status`);
      if (body.last_decision && body.last_decision.at !== lastDecisionAt) {
        lastDecisionAt = body.last_decision.at;
        const row: Row = { n: rows.length + 1, phase, decision: body.last_decision, state: body.state, busy: body.busy, cooldownLeft: body.cooldown_left_seconds };
        rows.push(row);
        console.log(format(row));
        const wait = began + TICK_MS - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        return row;
      }
      if (i > 200) throw new Error(`the tick of ${new Date(began).toISOString()} left no decision: ${JSON.stringify(body.last_decision)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const monitoring = (r: Row) => METRICS.every((m) => r.decision.cusum[m]?.status === "monitoring");
  const fired = (r: Row) => METRICS.some((m) => r.decision.cusum[m]?.degraded === true);

  it("(a) steady: no run; (b) degraded: a run within 5 ticks of CUSUM firing; (c) cooldown: no run", async () => {
    const started = Date.now();
    load = startPgbench(target.url("postgres"), { clients: LOAD.clients, threads: LOAD.threads, rate: LOAD.rate, seconds: 600, script: join(scriptDir!, "range.sql") });
    await new Promise((r) => setTimeout(r, LOAD_WARMUP_MS));

    // (a) steady load until 30 ticks have had every CUSUM monitoring.
    let monitored = 0;
    while (monitored < STEADY_MONITORED_TICKS) {
      const r = await tick("steady");
      if (monitoring(r)) monitored++;
      expect(r.n, "CUSUM never left its learning phase").toBeLessThan(REFERENCE + STEADY_MONITORED_TICKS + 10);
    }
    const steady = rows.filter((r) => r.phase === "steady");
    expect(steady.filter((r) => r.decision.status === "started"), "no run on a steady workload").toEqual([]);
    expect(steady.some((r) => r.decision.status === "skipped" && /too little history/.test(r.decision.why)), "the first ticks say the history is too short").toBe(true);
    expect((await api<{ optimizations: unknown[] }>(`/api/optimizations`)).body.optimizations).toEqual([]);

    // (b) the degradation: every primary-key lookup becomes a sequential scan.
    await target.query("alter system set enable_indexscan = off");
    await target.query("alter system set enable_bitmapscan = off");
    await target.query("select pg_reload_conf()");
    const injectedAfter = rows.length;
    let start: Row | undefined;
    while (!start) {
      const r = await tick("degraded");
      if (r.decision.status === "started") start = r;
      expect(r.n - injectedAfter, "no run started after the degradation").toBeLessThanOrEqual(15);
    }
    const firstFired = rows.find((r) => r.n > injectedAfter && fired(r))!;
    expect(firstFired, "CUSUM fired after the degradation").toBeDefined();
    expect(start.n - firstFired.n, `run started at tick ${start.n}, CUSUM fired first at tick ${firstFired.n}`).toBeLessThanOrEqual(START_WITHIN_TICKS);
    const runId = start.decision.run_id!;
    expect(runId).toMatch(/^r-/);

    // The run reacts to what the loop saw: trigger auto, the cause in its timeline.
    const run = (await api<{ trigger: string; action: string; mode: string; details: { cause: { source: string; confidence: number; detectors: string[] } }; events: Array<{ message: string }> }>(`/api/optimization/${runId}`)).body;
    expect(run).toMatchObject({ trigger: "auto", action: start.decision.action, mode: "direct" });
    expect(run.details.cause).toMatchObject({ source: "cron", confidence: start.decision.confidence });
    expect(run.events[0]!.message).toMatch(/by the cron loop: start (holistic|knobs|queries)/);

    // The same facts through the CLI and the same rules file: the same action.
    const dir = mkdtempSync(join(tmpdir(), "pg2une-autonomy-"));
    try {
      const file = join(dir, "facts.json");
      writeFileSync(file, JSON.stringify(start.decision.facts));
      const out = execFileSync(process.execPath, [join(ROOT, "runner/bin/pg2une.js"), "rules", join(ROOT, "rules/pg2une.dl"), "--facts", file, "--query", "should_act", "--json"], { cwd: ROOT, encoding: "utf8" });
      const cli = JSON.parse(out) as { should_act?: string[][] };
      const cliActs = (cli.should_act ?? []).map((t) => t[0]!);
      expect(cliActs.sort()).toEqual(start.decision.should_act);
      expect(chooseAction(cliActs).action).toBe(start.decision.action);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // While the run is in flight: ticks go on, nothing else starts.
    let endedAt: number | undefined;
    while (endedAt === undefined) {
      const r = await tick("run");
      expect(r.decision.status, "a second run while one is in flight").not.toBe("started");
      if (!r.busy) endedAt = r.n;
      expect(Date.now() - Date.parse(start.decision.at), "the run did not end in time").toBeLessThan(RUN_BUDGET_MS);
    }

    // (c) the run is over, the degradation is still in place: ticks during the cooldown start nothing.
    expect((await target.query<{ enable_indexscan: string }>("show enable_indexscan"))[0]!.enable_indexscan).toBe("off");
    for (let i = 0; i < COOLDOWN_TICKS; i++) await tick("after");
    const after = rows.filter((r) => r.phase === "after");
    for (const r of after) {
      expect(r.decision.status, format(r)).not.toBe("started");
      expect(r.decision.suppress_action, `the rules' cooldown holds at tick ${r.n}`).toBe(true);
      expect(r.cooldownLeft, "the object is cooling down").toBeGreaterThan(0);
    }
    // The object itself refuses a run now, whoever asks.
    const refused = await fetch(`${worker.url}/api/optimize`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ action: "knobs" }) });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ details: { reason: "cooldown" } });
    const runs = (await api<{ optimizations: Array<{ id: string; trigger: string; outcome: string | null }> }>(`/api/optimizations`)).body.optimizations;
    expect(runs.map((r) => r.id)).toEqual([runId]);

    const bench = pgbenchSummary(await stopLoad());
    console.log(
      [
        `autonomy timeline: ${rows.length} ticks every ${TICK_MS / 1000} s, CUSUM reference ${REFERENCE}`,
        `  steady: ticks 1-${injectedAfter}, ${monitored} monitored, runs started: 0`,
        `  degradation injected after tick ${injectedAfter}; CUSUM fired first at tick ${firstFired.n}; run ${runId} (${start.decision.action}) started at tick ${start.n} (+${start.n - firstFired.n})`,
        `  run ended by tick ${endedAt} (${after.length} cooldown ticks after it, runs started: 0); outcome ${runs[0]!.outcome}`,
        `  pgbench: ${bench.abortedClients} aborted clients; wall time ${((Date.now() - started) / 1000).toFixed(0)} s`,
      ].join("\n"),
    );
  }, 420_000);

  async function stopLoad() {
    const l = load!;
    load = undefined;
    await l.stop();
    return l.done;
  }
});

function format(r: Row): string {
  const c = (m: string) => {
    const s = r.decision.cusum[m];
    if (!s) return `${m} -`;
    return s.status === "learning_baseline" ? `${m} learning` : `${m} S=${s.statistic.toFixed(1)}${s.degraded ? "!" : ""}`;
  };
  const d = r.decision;
  const conf = d.confidence === null ? "-" : d.confidence.toFixed(2);
  return `tick ${String(r.n).padStart(3)} ${r.phase.padEnd(8)} ${METRICS.map(c).join(" ")} conf ${conf} should_act [${d.should_act.join(",")}] → ${d.status}${d.run_id && d.status === "started" ? ` ${d.run_id}` : ""}${d.suppress_action ? " (suppress_action)" : ""} | state ${r.state}${r.busy ? " busy" : ""}${r.phase === "steady" ? "" : ` | ${d.why}`}`;
}
