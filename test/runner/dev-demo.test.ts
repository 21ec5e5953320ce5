/**
 * The pieces of `pg2une dev --demo`, for real against a PostgreSQL of their own: the demo's
 * pgbench workload (its scripts written into a state dir, chunked runs, each chunk's report), the
 * degradation it injects (ALTER SYSTEM + reload: the lookups' plans and the clients' latency
 * change), the reset, and the options' checks. The whole demo (stack + loop, ~6 min) is measured
 * by hand: README "Quick start" has the timeline.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JIT_DEGRADATION, SEQSCAN_DEGRADATION, chooseDegradation, currentSetting, injectDegradation, resetDemoSettings } from "../../runner/dev/demo/degradation";
import { LOOKUP_SCRIPT, initPgbenchTables, parsePgbenchReport, startDemoWorkload, writeDemoScripts, type ChunkReport } from "../../runner/dev/demo/workload";
import { DEV_DEFAULTS, DevOptionsError, resolveDevOptions } from "../../runner/dev/options";
import { isRoutine } from "../../runner/dev/output";
import { findTool } from "../../runner/postgres/binaries";
import { startTestCluster, type TestCluster } from "../support/postgres";
import { requireOrSkip } from "../support/tools";

const pgbench = findTool("pgbench");
const HAVE_PGBENCH = requireOrSkip(pgbench ? { ok: true } : { ok: false, why: "pgbench is not installed (Debian: apt-get install postgresql-client)" }, "dev demo workload");
const LOOKUP = "select abalance from pgbench_accounts where aid = 42";

describe("pg2une dev --demo options", () => {
  it("demo defaults: 5 s cron, its own state dir; flags and env still win", () => {
    expect(resolveDevOptions({ demo: true }, {}, "/x")).toMatchObject({ demo: true, cronIntervalS: DEV_DEFAULTS.demoCronIntervalS, dir: "/x/.pg2une/demo" });
    expect(resolveDevOptions({ demo: true, cronIntervalS: "12" }, {}, "/x")).toMatchObject({ cronIntervalS: 12 });
    expect(resolveDevOptions({}, { PG2UNE_DEV_DEMO: "1", PG2UNE_DEV_CRON_INTERVAL_S: "15" }, "/x")).toMatchObject({ demo: true, cronIntervalS: 15 });
    expect(resolveDevOptions({}, {}, "/x")).toMatchObject({ demo: false, cronIntervalS: 60, dir: "/x/.pg2une" });
  });

  it("bad input names the flag and the env var", () => {
    expect(() => resolveDevOptions({ demo: true, pgbouncer: false }, {})).toThrow(/--demo \/ PG2UNE_DEV_DEMO: the demo drives its workload through PgBouncer/);
    expect(() => resolveDevOptions({ demo: true, cronIntervalS: "0" }, {})).toThrow(/--cron-interval \/ PG2UNE_DEV_CRON_INTERVAL_S: the demo needs the cron/);
    expect(() => resolveDevOptions({ cronIntervalS: "-1" }, {})).toThrow(/--cron-interval \/ PG2UNE_DEV_CRON_INTERVAL_S: must be ≥ 0/);
    expect(() => resolveDevOptions({ rolloutTimings: "{nope" }, {})).toThrow(/--rollout-timings \/ PG2UNE_DEV_ROLLOUT_TIMINGS: not JSON/);
    expect(() => resolveDevOptions({ rolloutTimings: '{"canaryStepMs": 10}' }, {})).toThrow(/--rollout-timings \/ PG2UNE_DEV_ROLLOUT_TIMINGS \(canaryStepMs\): .*1000/);
    expect(() => resolveDevOptions({ rolloutTimings: '{"canaryStep": 5000}' }, {})).toThrow(/--rollout-timings \/ PG2UNE_DEV_ROLLOUT_TIMINGS: .*canaryStep/);
    expect(() => resolveDevOptions({ dbPort: "70000" }, {})).toThrow(/--db-port \/ PG2UNE_DEV_DB_PORT: must be 1–65535/);
    expect(() => resolveDevOptions({ dbPort: "54329" }, {})).toThrow(DevOptionsError);
    expect(resolveDevOptions({ rolloutTimings: '{"canaryStepMs": 5000}' }, {}).rolloutTimings).toEqual({ canaryStepMs: 5000 });
  });

  it("the demo's terminal hides per-tick routine, never warnings", () => {
    expect(isRoutine("cron", 'GET /__scheduled (cron "* * * * *") → 200')).toBe(true);
    expect(isRoutine("cron", "GET /__scheduled failed: fetch failed")).toBe(false);
    expect(isRoutine("runner", '{"ts":"…","level":"info","event":"command_done","type":"collect"}')).toBe(true);
    expect(isRoutine("runner", '{"ts":"…","level":"warn","event":"command_failed"}')).toBe(false);
    expect(isRoutine("pgbouncer", "2026-11-26 18:46:35.056 UTC [20919] LOG C-0x5606b84867f0: rw/postgres@127.0.0.1:45550 login attempt: db=rw user=postgres tls=no")).toBe(true);
    expect(isRoutine("pgbouncer", "2026-11-26 18:46:35.056 UTC [20919] WARNING server login failed")).toBe(false);
    expect(isRoutine("demo", "t+0:00 anything")).toBe(false);
  });

  it("reads pgbench's own report", () => {
    const out = "number of transactions actually processed: 598\nnumber of failed transactions: 0 (0.000%)\nlatency average = 1.234 ms\ntps = 199.512 (without initial connection time)\n";
    expect(parsePgbenchReport(out)).toEqual({ processed: 598, failed: 0, tps: 199.512, latencyMs: 1.234 });
  });
});

describe.runIf(HAVE_PGBENCH)("the demo's workload and degradation, against a real PostgreSQL", () => {
  let cluster: TestCluster;
  const dir = mkdtempSync(join(tmpdir(), "pg2une-demo-test-"));

  beforeAll(async () => {
    cluster = await startTestCluster();
    await initPgbenchTables(pgbench!, cluster.url(), 1);
  });
  afterAll(async () => {
    await cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const plan = async () => (await cluster.query<{ "QUERY PLAN": string }>(`explain ${LOOKUP}`)).map((r) => r["QUERY PLAN"]).join("\n");
  const jitted = async () => (await cluster.query<{ "QUERY PLAN": string }>(`explain (analyze) ${LOOKUP}`)).some((r) => /^JIT:/.test(r["QUERY PLAN"]));

  /** Runs `chunks` chunks of the workload and stops it; their reports. */
  async function runChunks(chunks: number): Promise<{ reports: ChunkReport[]; pids: number[] }> {
    const reports: ChunkReport[] = [];
    const pids: number[] = [];
    const scriptArgs = writeDemoScripts(join(dir, "scripts"));
    const load = startDemoWorkload({ pgbench: pgbench!, url: cluster.url(), scriptArgs, rate: 100, chunkSeconds: 2, onChunk: (r) => reports.push(r) });
    const deadline = Date.now() + 30_000;
    while (reports.length < chunks && Date.now() < deadline) {
      if (load.pid !== undefined && !pids.includes(load.pid)) pids.push(load.pid);
      await new Promise((r) => setTimeout(r, 100));
    }
    await load.stop();
    return { reports, pids };
  }

  it("writes its scripts, drives the rate it asks for through chunks, and stops leaving no pgbench", async () => {
    const { reports, pids } = await runChunks(2);
    expect(readFileSync(join(dir, "scripts", "lookup.sql"), "utf8")).toBe(LOOKUP_SCRIPT);
    expect(existsSync(join(dir, "scripts", "transfer.sql"))).toBe(true);
    expect(reports.length).toBeGreaterThanOrEqual(2);
    for (const r of reports) {
      expect(r, r.output).toMatchObject({ exitCode: 0, failed: 0 });
      expect(r.tps!, r.output).toBeGreaterThan(70);
      expect(r.tps!, r.output).toBeLessThan(130);
    }
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });

  it("the injected degradation is real (plans, latency), and the reset undoes it", async () => {
    const before = (await runChunks(1)).reports[0]!;
    expect(await plan()).toMatch(/Index (Only )?Scan using pgbench_accounts_pkey/);
    expect(await jitted()).toBe(false);

    const degradation = await chooseDegradation(cluster.url());
    await injectDegradation(cluster.url(), degradation);
    if (degradation === JIT_DEGRADATION) {
      expect(await currentSetting(cluster.url(), "jit_above_cost")).toBe("0");
      expect(await jitted()).toBe(true);
    } else {
      expect(degradation).toBe(SEQSCAN_DEGRADATION);
      expect(await plan()).toMatch(/Seq Scan on pgbench_accounts/);
    }
    const after = (await runChunks(1)).reports[0]!;
    console.log(`[demo test] ${degradation.name}: latency avg ${before.latencyMs} ms → ${after.latencyMs} ms, tps ${before.tps} → ${after.tps}`);
    expect(after.failed).toBe(0);
    expect(after.latencyMs!).toBeGreaterThan(3 * before.latencyMs!);

    await injectDegradation(cluster.url(), SEQSCAN_DEGRADATION);
    expect(await plan()).toMatch(/Seq Scan on pgbench_accounts/);

    await resetDemoSettings(cluster.url());
    expect(await currentSetting(cluster.url(), "random_page_cost")).toBe("4");
    expect(await currentSetting(cluster.url(), "jit_above_cost")).toBe("100000");
    expect(await plan()).toMatch(/Index (Only )?Scan using pgbench_accounts_pkey/);
    expect(await jitted()).toBe(false);
  });
});
