/**
 * Workload class and per-query regressions on real PostgreSQL load (pgbench), from real
 * statistics: each window is the delta of pg_stat_database and pg_stat_statements (for the load's
 * database only) between two reads. The derivation here is deliberately minimal and test-local;
 * the metrics pipeline (src/core/metrics) will replace it with the production one.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DETECT_CONFIG, detect, queryWindowSchema, type QueryWindow, type SystemSnapshot } from "../../src/core/detect";
import { classifyWorkload } from "../../src/core/detect/workload-class";
import { startTestCluster, type TestCluster } from "../support/postgres";
import { checkTool, requireOrSkip } from "../support/tools";

const run = promisify(execFile);
const pgbenchCheck = checkTool("pgbench", "Debian: apt-get install postgresql-contrib / postgresql-client");
const enabled = requireOrSkip(pgbenchCheck, "detect on real workloads");
const DB = "bench";

interface Reading {
  time: number;
  xacts: number;
  blksHit: number;
  blksRead: number;
  tempBytes: number;
  statements: Map<string, { calls: number; totalMs: number; rows: number; hit: number; read: number; temp: number }>;
}

async function read(cluster: TestCluster): Promise<Reading> {
  const [db] = await cluster.query<{ xacts: string; hit: string; read: string; temp: string }>(
    "select xact_commit + xact_rollback as xacts, blks_hit as hit, blks_read as read, temp_bytes as temp from pg_stat_database where datname = $1",
    [DB],
  );
  const rows = await cluster.query<{ queryid: string; calls: string; total: number; rows: string; hit: string; read: string; temp: string }>(
    `select s.queryid::text, s.calls, s.total_exec_time as total, s.rows, s.shared_blks_hit as hit,
            s.shared_blks_read as read, s.temp_blks_written as temp
       from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = $1`,
    [DB],
  );
  const statements = new Map(
    rows.map((r) => [r.queryid, { calls: Number(r.calls), totalMs: r.total, rows: Number(r.rows), hit: Number(r.hit), read: Number(r.read), temp: Number(r.temp) }]),
  );
  return { time: Date.now(), xacts: Number(db!.xacts), blksHit: Number(db!.hit), blksRead: Number(db!.read), tempBytes: Number(db!.temp), statements };
}

/** One window: snapshot + per-query rows, from two readings. */
function window(before: Reading, after: Reading): { snapshot: SystemSnapshot; queries: QueryWindow[] } {
  const seconds = (after.time - before.time) / 1000;
  const snapshot_time = new Date(after.time).toISOString();
  const queries: QueryWindow[] = [];
  let calls = 0;
  let totalMs = 0;
  for (const [queryid, s] of after.statements) {
    const b = before.statements.get(queryid) ?? { calls: 0, totalMs: 0, rows: 0, hit: 0, read: 0, temp: 0 };
    const dc = s.calls - b.calls;
    if (dc <= 0) continue;
    const dt = s.totalMs - b.totalMs;
    calls += dc;
    totalMs += dt;
    queries.push(
      queryWindowSchema.parse({
        queryid,
        snapshot_time,
        calls: dc,
        total_exec_time_ms: dt,
        mean_exec_time_ms: dt / dc,
        rows_per_call: (s.rows - b.rows) / dc,
        shared_blks_hit: s.hit - b.hit,
        shared_blks_read: s.read - b.read,
        temp_blks_written: s.temp - b.temp,
      }),
    );
  }
  const hit = after.blksHit - before.blksHit;
  const readBlocks = after.blksRead - before.blksRead;
  return {
    snapshot: {
      snapshot_time,
      tps: (after.xacts - before.xacts) / seconds,
      qps: calls / seconds,
      latency_mean: calls > 0 ? totalMs / calls : null,
      buffer_hit_ratio: hit + readBlocks > 0 ? hit / (hit + readBlocks) : null,
      temp_bytes_per_sec: (after.tempBytes - before.tempBytes) / seconds,
    },
    queries,
  };
}

let cluster: TestCluster;
let dir: string;

async function pgbench(args: string[]): Promise<void> {
  await run(pgbenchCheck.path!, ["-h", cluster.host, "-p", String(cluster.port), "-U", "postgres", ...args, DB], { timeout: 120_000 });
}

/** Run `load` `count` times, reading the statistics around each run: one window per run. */
async function windows(count: number, load: () => Promise<void>) {
  const out: Array<{ snapshot: SystemSnapshot; queries: QueryWindow[] }> = [];
  let before = await read(cluster);
  for (let i = 0; i < count; i++) {
    await load();
    const after = await read(cluster);
    out.push(window(before, after));
    before = after;
  }
  return out;
}

function classOf(ws: Array<{ snapshot: SystemSnapshot; queries: QueryWindow[] }>) {
  return classifyWorkload(
    ws.map((w) => w.snapshot),
    ws.flatMap((w) => w.queries),
    DEFAULT_DETECT_CONFIG.workload,
  );
}

describe.runIf(enabled)("detect on real workloads", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pg2une-detect-real-"));
    cluster = await startTestCluster({ settings: { work_mem: "'4MB'", max_parallel_workers_per_gather: "0" } });
    await cluster.query(`create database ${DB}`);
    await cluster.query("create extension if not exists pg_stat_statements", [], DB);
    await pgbench(["-i", "-q", "-s", "5"]);
  }, 180_000);

  afterAll(async () => {
    await cluster?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("classifies pgbench TPC-B-like load as OLTP", async () => {
    const ws = await windows(3, () => pgbench(["-c", "4", "-j", "2", "-T", "2"]));
    const r = classOf(ws);
    console.log("TPC-B:", r.class, r.score, r.features);
    expect(r.class).toBe("oltp");
  });

  it("classifies pgbench -S (select-only) as OLTP", async () => {
    const ws = await windows(3, () => pgbench(["-S", "-c", "4", "-j", "2", "-T", "2"]));
    const r = classOf(ws);
    console.log("pgbench -S:", r.class, r.score, r.features);
    expect(r.class).toBe("oltp");
  });

  it("classifies an analytic mix (sorts, aggregates, joins over 1M rows) as OLAP", async () => {
    await cluster.query(
      `create table facts as
         select g as id, g % 1000 as k, random() * 100 as v, md5(g::text) as s from generate_series(1, 1000000) g;
       create table dims as select k, k % 7 as grp, md5(k::text) as label from generate_series(0, 999) k;
       analyze facts; analyze dims;`,
      [],
      DB,
    );
    const script = join(dir, "analytic.sql");
    writeFileSync(
      script,
      [
        "select k, avg(v), count(*) from facts group by k order by 2 desc limit 5;",
        "select s from facts order by s offset 500000 limit 1;",
        "select d.grp, sum(f.v) from facts f join dims d on d.k = f.k group by d.grp;",
      ].join("\n"),
    );
    const ws = await windows(2, () => pgbench(["-n", "-f", script, "-c", "2", "-j", "2", "-T", "3"]));
    const r = classOf(ws);
    console.log("analytic mix:", r.class, r.score, r.features);
    expect(r.class).toBe("olap");
  });

  it("reports query_regression(_, same_load, P > 20) when a query loses its index at the same call rate", async () => {
    await cluster.query(
      `create table items as select g as id, g % 50000 as k, md5(g::text) as payload from generate_series(1, 300000) g;
       create index items_k_idx on items (k); analyze items;`,
      [],
      DB,
    );
    const script = join(dir, "lookup.sql");
    writeFileSync(script, "\\set k random(0, 49999)\nselect payload from items where k = :k;\n");
    // A fixed arrival rate (-R): the same load before and after the index goes.
    const lookups = () => pgbench(["-n", "-f", script, "-c", "2", "-j", "2", "-R", "40", "-T", "2"]);
    const baseline = await windows(5, lookups);
    await cluster.query("drop index items_k_idx", [], DB);
    const slow = await windows(1, lookups);
    const all = [...baseline, ...slow];
    const report = detect({ snapshots: all.map((w) => w.snapshot), queries: all.flatMap((w) => w.queries), baseline_valid_from: undefined });
    const lookupId = slow[0]!.queries.reduce((a, b) => (a.total_exec_time_ms! > b.total_exec_time_ms! ? a : b)).queryid;
    console.log("query regressions:", report.query_regressions);
    const regression = report.facts.find((f) => f.pred === "query_regression" && f.args[0] === lookupId);
    expect(regression).toBeDefined();
    expect(regression!.args[1]).toBe("same_load");
    expect(regression!.args[2] as number).toBeGreaterThan(20);
  });
});
