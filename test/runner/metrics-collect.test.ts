/**
 * The collector against real PostgreSQL clusters: rates from two collects agree with pgbench,
 * resets never produce negative rates, and a cluster without pg_stat_statements still gives a
 * sample that says how to enable it.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { derive, RawSampleSchema, PG_STAT_STATEMENTS_INSTRUCTION, type RawSample, type Snapshot } from "../../src/core/metrics";
import { collectSample } from "../../runner/metrics/collect";
import { sleep } from "../../runner/postgres/cluster";
import { inWindow, pgbenchInit, pgbenchPath, readTransactionLog, startPgbench, type PgbenchRun } from "../support/pgbench";
import { startTestCluster, type TestCluster } from "../support/postgres";
import { checkTool, requireOrSkip } from "../support/tools";

const hasPgbench = requireOrSkip(checkTool("pgbench", "Debian: apt-get install postgresql-client-15"), "metrics collector");

async function collect(url: string, settingNames: string[] = ["work_mem", "shared_buffers"]): Promise<RawSample> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await collectSample(client, { target: "test", settingNames });
  } finally {
    await client.end();
  }
}

function expectNoNegativeRate(s: Snapshot): void {
  for (const [k, v] of Object.entries(s)) {
    if (typeof v === "number") expect(v, k).toBeGreaterThanOrEqual(0);
  }
  for (const q of s.queries) for (const [k, v] of Object.entries(q)) if (typeof v === "number") expect(v, `${q.queryid}.${k}`).toBeGreaterThanOrEqual(0);
}

describe.runIf(hasPgbench)("collectSample on a real cluster", () => {
  let cluster: TestCluster;
  let bench: PgbenchRun | undefined;

  beforeAll(async () => {
    cluster = await startTestCluster();
    pgbenchInit(cluster.url(), 1);
  });

  afterAll(async () => {
    await bench?.stop();
    await cluster?.destroy();
  });

  it("reads every source and validates as a raw sample", async () => {
    const s = await collect(cluster.url(), ["work_mem", "shared_buffers", "no_such_setting"]);
    expect(RawSampleSchema.parse(s)).toEqual(s);
    expect(s.server.major).toBeGreaterThanOrEqual(13);
    expect(s.server.system_identifier).toMatch(/^\d+$/);
    expect(s.server.database).toBe("postgres");
    expect(s.wal_lsn_bytes).toBeGreaterThan(0);
    expect(s.checkpoints.source).toBe(s.server.major >= 17 ? "pg_stat_checkpointer" : "pg_stat_bgwriter");
    expect(s.settings).toEqual({ shared_buffers: "128MB", work_mem: "4MB" });
    expect(s.statements.available).toBe(true);
    if (s.statements.available) {
      expect(s.statements.info).not.toBeNull();
      // The collector's own statements are not part of the workload.
      expect(s.statements.top.some((e) => e.query?.includes("pg2une:collect"))).toBe(false);
      // Nor its transaction control: an untagged BEGIN/SAVEPOINT would show up as a tiny
      // "query" that regresses every window.
      const again = await collect(cluster.url(), ["work_mem"]);
      if (again.statements.available) {
        expect(again.statements.top.filter((e) => /begin read only|pg2une_(optional|statements)/i.test(e.query ?? ""))).toEqual([]);
      }
    }
  });

  it("counts connections by state, including sessions waiting on a lock", async () => {
    const holder = new pg.Client({ connectionString: cluster.url() });
    const waiter = new pg.Client({ connectionString: cluster.url() });
    await holder.connect();
    await waiter.connect();
    try {
      await holder.query("begin; lock table pgbench_branches in access exclusive mode");
      const waiting = waiter.query("select count(*) from pgbench_branches");
      await sleep(300);
      const s = await collect(cluster.url());
      expect(s.activity.idle_in_transaction).toBeGreaterThanOrEqual(1);
      expect(s.activity.waiting_on_locks).toBeGreaterThanOrEqual(1);
      expect(s.activity.active).toBeGreaterThanOrEqual(1);
      expect(s.activity.oldest_transaction_seconds).toBeGreaterThan(0);
      await holder.query("rollback");
      await waiting;
    } finally {
      await holder.end();
      await waiter.end();
    }
  });

  it("during pgbench, two collects 10 s apart give tps within 10 % of pgbench's and per-query calls deltas", async () => {
    // Throttled (-R): on an oversubscribed CPU, backends that miss the stats lock retry their
    // pg_stat_database flush after 1 s, 2 s, 4 s…, which alone moves a 10 s tps by ±5-10 %
    // (measured in bench/metrics.ts). Here we check the collector, not PostgreSQL's flush cadence.
    bench = startPgbench(cluster.url(), { clients: 8, threads: 2, seconds: 16, log: true, rate: 400 });
    await sleep(4_000);
    const first = await collect(cluster.url());
    await sleep(10_000);
    const second = await collect(cluster.url());
    const { output } = await bench.done;
    const log = readTransactionLog(bench.logDir!);
    await bench.stop();
    bench = undefined;

    const snap = derive(first, second);
    const seconds = (Date.parse(second.collected_at) - Date.parse(first.collected_at)) / 1000;
    const reference = inWindow(log, Date.parse(first.collected_at), Date.parse(second.collected_at)).length / seconds;
    expect(reference, output).toBeGreaterThan(0);
    console.log(`[metrics] window ${seconds.toFixed(2)} s: pg2une tps ${snap.tps?.toFixed(1)}, pgbench ${reference.toFixed(1)}; latency p50/p95/p99 ${snap.latency_p50?.toFixed(3)}/${snap.latency_p95?.toFixed(3)}/${snap.latency_p99?.toFixed(3)} ms`);
    expect(Math.abs(snap.tps! / reference - 1), `pg2une ${snap.tps} vs pgbench ${reference} tps`).toBeLessThan(0.1);
    expectNoNegativeRate(snap);
    expect(snap.latency_p50).toBeGreaterThan(0);
    expect(snap.latency_p99).toBeGreaterThanOrEqual(snap.latency_p50!);
    expect(snap.buffer_hit_ratio).toBeGreaterThan(0.5);
    const update = snap.queries.find((q) => q.query?.startsWith("UPDATE pgbench_accounts"));
    expect(update, JSON.stringify(snap.queries.map((q) => q.query))).toBeDefined();
    // One UPDATE of pgbench_accounts per transaction.
    expect(Math.abs(update!.calls / (reference * seconds) - 1)).toBeLessThan(0.1);
    expect(update!.mean_exec_time_ms).toBeGreaterThan(0);
    expect(update!.rows_per_call).toBeCloseTo(1, 6);
    expect(snap.statements_per_transaction).toBeGreaterThan(5); // BEGIN, 5 statements, END
  });

  it("after pg_stat_reset() and pg_stat_statements_reset() no rate is negative, and the reset is marked", async () => {
    const before = await collect(cluster.url());
    await cluster.query("select pg_stat_reset()");
    await cluster.query("select pg_stat_statements_reset()");
    await cluster.query("select count(*) from pgbench_accounts where aid < 100");
    await sleep(1_100);
    const after = await collect(cluster.url());
    const snap = derive(before, after);
    expectNoNegativeRate(snap);
    expect(snap.reset_detected).toBe(true);
    expect(snap.reset_reasons).toEqual(expect.arrayContaining(["database_stats_reset", "statements_reset"]));
    expect(snap.tps).toBeNull();
    expect(snap.qps).toBeNull();
    expect(snap.queries.every((q) => q.reset)).toBe(true);
  });

  it("detects a server restart between two samples", async () => {
    const before = await collect(cluster.url());
    await cluster.stop("fast");
    const { startPostgres } = await import("../../runner/postgres/cluster");
    const restarted = await startPostgres({ dataDir: cluster.dataDir, port: cluster.port, host: cluster.host, logFile: cluster.logFile });
    try {
      await sleep(1_100);
      const after = await collect(cluster.url());
      const snap = derive(before, after);
      expect(snap.reset_reasons).toContain("server_restarted");
      expect(snap.tps).toBeNull();
    } finally {
      await restarted.stop("fast");
    }
  });
});

describe("collectSample where pg_stat_statements is missing or old", () => {
  let plain: TestCluster;
  let cluster: TestCluster;

  beforeAll(async () => {
    [plain, cluster] = await Promise.all([startTestCluster({ settings: { shared_preload_libraries: "''" } }), startTestCluster()]);
  });
  afterAll(async () => {
    await Promise.all([plain?.destroy(), cluster?.destroy()]);
  });

  it("not preloaded: the sample says so with the operator instruction, and the rest is collected", async () => {
    const a = await collect(plain.url());
    await plain.query("select 1");
    await sleep(1_100);
    const b = await collect(plain.url());
    expect(b.statements).toMatchObject({ available: false, reason: "not_preloaded", instruction: PG_STAT_STATEMENTS_INSTRUCTION });
    const snap = derive(a, b);
    expect(snap.tps).toBeGreaterThan(0);
    expect(snap.qps).toBeNull();
    expect(snap.pg_stat_statements).toMatchObject({ available: false, instruction: PG_STAT_STATEMENTS_INSTRUCTION });
  });

  it("preloaded but not created in this database: says which database needs CREATE EXTENSION", async () => {
    await cluster.query("create database noext");
    const s = await collect(cluster.url("noext"));
    expect(s.statements).toMatchObject({ available: false, reason: "extension_missing" });
    if (!s.statements.available) expect(s.statements.instruction).toContain("CREATE EXTENSION pg_stat_statements");
  });

  it.each([
    ["1.7", "total_time columns, no toplevel, no pg_stat_statements_info"],
    ["1.8", "total_exec_time, no toplevel"],
  ])("extension version %s (%s) is read through the right columns", async (version) => {
    const db = `pgss_${version.replace(".", "_")}`;
    await cluster.query(`create database ${db}`);
    await cluster.query(`create extension pg_stat_statements version '${version}'`, [], db);
    for (let i = 0; i < 3; i++) await cluster.query("select count(*) from pg_class where relpages > $1", [i], db);
    const s = await collect(cluster.url(db));
    expect(s.statements.available).toBe(true);
    if (!s.statements.available) return;
    expect(s.statements.extension_version).toBe(version);
    expect(s.statements.info).toBeNull();
    const entry = s.statements.top.find((e) => e.query?.includes("relpages"));
    expect(entry).toMatchObject({ calls: 3, toplevel: null });
    expect(entry!.total_exec_time_ms).toBeGreaterThan(0);
  });
});
