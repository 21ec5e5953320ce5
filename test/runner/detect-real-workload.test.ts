/**
 * Workload class and per-query regressions on real PostgreSQL load, through the production
 * metrics pipeline: the runner's collector (collectSample) reads raw samples from the load's
 * database while pgbench runs, derive() turns each pair into a snapshot with per-query windows,
 * and detect() reads those exactly as the Worker reads them back from storage.
 *
 * Kept lean: the class does not depend on data size for pgbench (scale 1), windows are ~1 s,
 * and each load runs in the background while samples are taken (no pgbench start per window).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DETECT_CONFIG, detect, detectionInputOf, detectionWindowOf, type DetectionWindow } from "../../src/core/detect";
import { classifyWorkload } from "../../src/core/detect/workload-class";
import { derive, type RawSample } from "../../src/core/metrics";
import { collectSample } from "../../runner/metrics/collect";
import { sleep } from "../../runner/postgres/cluster";
import { pgbenchInit, startPgbench, type PgbenchOptions, type PgbenchRun } from "../support/pgbench";
import { startTestCluster, type TestCluster } from "../support/postgres";
import { checkTool, requireOrSkip } from "../support/tools";

const enabled = requireOrSkip(checkTool("pgbench", "Debian: apt-get install postgresql-client"), "detect on real workloads");
const DB = "bench";

let cluster: TestCluster;
let collector: pg.Client;
let dir: string;
const running = new Set<PgbenchRun>();

async function sample(): Promise<RawSample> {
  return collectSample(collector, { target: "test", settingNames: ["work_mem"] });
}

/**
 * Runs pgbench in the background and returns `count` derived windows of `windowMs` each; `between`
 * runs after window i (e.g. to drop an index). The first sample only anchors the first window.
 */
async function windowsUnder(load: Omit<PgbenchOptions, "seconds">, count: number, windowMs: number, between?: (i: number) => Promise<void>): Promise<DetectionWindow[]> {
  const run = startPgbench(cluster.url(DB), { ...load, seconds: Math.ceil(((count + 1) * windowMs) / 1000) + 5 });
  running.add(run);
  try {
    await sleep(300); // connections up, first statements in
    let previous = await sample();
    const out: DetectionWindow[] = [];
    for (let i = 0; i < count; i++) {
      await sleep(windowMs);
      const current = await sample();
      out.push(detectionWindowOf(derive(previous, current)));
      previous = current;
      await between?.(i);
    }
    return out;
  } finally {
    await run.stop();
    running.delete(run);
  }
}

function classOf(ws: readonly DetectionWindow[]) {
  const input = detectionInputOf(ws);
  return classifyWorkload(input.snapshots, input.queries, DEFAULT_DETECT_CONFIG.workload);
}

describe.runIf(enabled)("detect on real workloads (collectSample + derive)", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pg2une-detect-real-"));
    cluster = await startTestCluster({ settings: { work_mem: "'4MB'", max_parallel_workers_per_gather: "0" } });
    await cluster.query(`create database ${DB}`);
    await cluster.query("create extension if not exists pg_stat_statements", [], DB);
    pgbenchInit(cluster.url(DB), 1);
    collector = new pg.Client({ connectionString: cluster.url(DB) });
    await collector.connect();
  }, 120_000);

  afterAll(async () => {
    for (const run of running) await run.stop();
    await collector?.end().catch(() => undefined);
    await cluster?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("classifies pgbench TPC-B-like load as OLTP", async () => {
    const ws = await windowsUnder({ clients: 2, threads: 2 }, 3, 1_000);
    expect(ws.every((w) => w.snapshot.tps! > 0 && w.queries.length > 0)).toBe(true);
    const r = classOf(ws);
    console.log("TPC-B:", r.class, r.score, r.features);
    expect(r.class).toBe("oltp");
  });

  it("classifies pgbench -S (select-only) as OLTP", async () => {
    const ws = await windowsUnder({ clients: 2, threads: 2, selectOnly: true }, 3, 1_000);
    const r = classOf(ws);
    console.log("pgbench -S:", r.class, r.score, r.features);
    expect(r.class).toBe("oltp");
  });

  it("classifies an analytic mix (sorts, aggregates, joins over 1M rows) as OLAP", async () => {
    await cluster.query(
      `create unlogged table facts as
         select g as id, g % 1000 as k, random() * 100 as v, md5(g::text) as s from generate_series(1, 1000000) g;
       create unlogged table dims as select k, k % 7 as grp, md5(k::text) as label from generate_series(0, 999) k;
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
    const ws = await windowsUnder({ clients: 2, threads: 2, script }, 2, 2_500);
    const r = classOf(ws);
    console.log("analytic mix:", r.class, r.score, r.features);
    expect(r.class).toBe("olap");
  });

  it("reports query_regression(_, same_load, P > 20) when a query loses its index at the same call rate", async () => {
    await cluster.query(
      `create table items as select g as id, g % 20000 as k, md5(g::text) as payload from generate_series(1, 100000) g;
       create index items_k_idx on items (k); analyze items;`,
      [],
      DB,
    );
    const script = join(dir, "lookup.sql");
    writeFileSync(script, "\\set k random(0, 19999)\nselect payload from items where k = :k;\n");
    // A fixed arrival rate (-R): the same load before and after the index goes. Five baseline
    // windows (the detector's minimum), then the index is dropped and one more window is read.
    const ws = await windowsUnder({ clients: 2, threads: 2, script, rate: 50 }, 6, 1_200, async (i) => {
      if (i === 4) await cluster.query("drop index items_k_idx", [], DB);
    });
    const report = detect(detectionInputOf(ws));
    const slow = ws.at(-1)!;
    const lookup = slow.queries.find((q) => typeof q.query === "string" && q.query.includes("from items where k"));
    expect(lookup).toBeDefined();
    console.log("query regressions:", report.query_regressions);
    const regression = report.facts.find((f) => f.pred === "query_regression" && f.args[0] === lookup!.queryid);
    expect(regression).toBeDefined();
    expect(regression!.args[1]).toBe("same_load");
    expect(regression!.args[2] as number).toBeGreaterThan(20);
    // Nothing else: microsecond statements that run once a window (BEGIN/COMMIT) wobble by
    // ±50 % but add no time worth acting on (minExtraTimeMs).
    expect(report.query_regressions.map((r) => r.queryid)).toEqual([lookup!.queryid]);
  });
});
