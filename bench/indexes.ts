/**
 * `npm run bench -- indexes [--rows N] [--window S] [--clients N] [--hold]`
 *
 * A real PostgreSQL with 1M orders and 100k customers, a query mix where three indexes are
 * missing, two queries no index can help, and one served by the primary key. It measures each
 * query's window mean with no extra index, with pg2une's indexes (advised with HypoPG, built
 * CONCURRENTLY while the workload runs, measured, kept or dropped), and with the index set a DBA
 * would pick by hand (the reference). Then it runs `pg2une advise-indexes <url> --json` against
 * the same database (indexes removed again) to show the CLI's listing.
 *
 * Targets: every query the reference makes ≥ 2× faster, pg2une's indexes make ≥ 2× faster too;
 * the queries no index helps get no index; pg2une's mean time per helped query is within 2× of
 * the reference's (timings are noisy on a shared 2-core machine: compare orders of magnitude).
 * --hold keeps the database running afterwards (prints its URL and PID) for trying the CLI.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { adviseIndexes } from "../runner/indexes/advisor";
import { createIndexes } from "../runner/indexes/index-creator";
import { dropIndexes } from "../runner/indexes/managed";
import { formatTable } from "../runner/cli/io";
import type { Advice, ManagedIndexRecord } from "../src/core/indexes";
import { runSql, startTestCluster, type TestCluster } from "../test/support/postgres";
import { startWorkload, type WorkloadQuery } from "../test/support/query-workload";
import { printComparison, printInputs, type ComparisonRow } from "./table";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));

interface Args {
  rows: number;
  windowS: number;
  clients: number;
  hold: boolean;
}

function parse(args: string[]): Args {
  const get = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const num = (flag: string, dflt: number, min: number) => {
    const raw = get(flag);
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`${flag} must be a number ≥ ${min}, got ${raw}`);
    return n;
  };
  return { rows: num("--rows", 1_000_000, 10_000), windowS: num("--window", 8, 1), clients: num("--clients", 2, 1), hold: args.includes("--hold") };
}

const DAY_MS = 86_400_000;

/** The mix. `helped` = a DBA would add an index for it; `none` = no index can help. */
const QUERIES: Array<WorkloadQuery & { kind: "helped" | "none" | "indexed" }> = [
  { kind: "helped", name: "orders by customer", sql: "select id, status, amount from orders where customer_id = $1", params: (r) => [r.int(1, 100_000)], weight: 5 },
  {
    kind: "helped",
    name: "recent pending orders",
    // LIMIT as a parameter, so the text matches what pg_stat_statements records.
    sql: "select id, customer_id, amount from orders where status = $1 and created_at > $2 order by created_at desc limit $3",
    params: (r) => ["pending", new Date(Date.now() - r.int(1, 5) * DAY_MS), 20],
    weight: 3,
  },
  { kind: "helped", name: "customer by email", sql: "select * from customers where email = $1", params: (r) => [`user${r.int(1, 100_000)}@example.com`], weight: 5 },
  {
    kind: "helped",
    name: "customer order totals",
    sql: "select c.email, count(*), sum(o.amount) from customers c join orders o on o.customer_id = c.id where c.id = $1 group by c.email",
    params: (r) => [r.int(1, 100_000)],
    weight: 2,
  },
  { kind: "none", name: "status summary", sql: "select status, count(*), avg(amount) from orders group by status", params: () => [], weight: 1 },
  { kind: "none", name: "amount above", sql: "select count(*) from orders where amount >= $1", params: (r) => [r.int(0, 3000) / 100], weight: 1 },
  { kind: "indexed", name: "order by id", sql: "select * from orders where id = $1", params: (r) => [r.int(1, 1_000_000)], weight: 5 },
];

/** What a DBA would create for this mix, by hand. */
const REFERENCE_INDEXES = [
  { table: "orders", columns: ["customer_id"] },
  { table: "orders", columns: ["status", "created_at"] },
  { table: "customers", columns: ["email"] },
];

async function load(pg: TestCluster, rows: number): Promise<number> {
  const started = performance.now();
  const q = (sql: string) => pg.query(sql, [], "shop");
  await pg.query("create database shop");
  await q("create extension pg_stat_statements");
  await q("create table customers (id int primary key, email text not null, country text not null, created_at timestamptz not null)");
  await q(`insert into customers select i, 'user' || i || '@example.com', (array['NZ','AU','US','DE','FR','JP','BR','IN'])[1 + i % 8],
             now() - i * interval '1 minute' from generate_series(1, 100000) i`);
  await q(`create table orders (id bigint primary key, customer_id int not null, status text not null,
             created_at timestamptz not null, amount numeric(10,2) not null, note text)`);
  await q(`insert into orders select i, 1 + (i::bigint * 7919) % 100000,
             case when i % 100 = 0 then 'pending' when i % 10 = 1 then 'shipped' else 'done' end,
             now() - i * interval '30 seconds', (i % 10000) / 100.0, md5(i::text)
           from generate_series(1, ${Math.floor(rows)}) i`);
  await q("vacuum analyze customers");
  await q("vacuum analyze orders");
  return (performance.now() - started) / 1000;
}

/**
 * Runs the mix for a window and returns each query's window mean (ms) from pg_stat_statements,
 * after an unmeasured warm-up of half a window (so every configuration is measured with warm caches).
 */
async function measure(url: string, a: Args, seed: number): Promise<Map<string, { calls: number; meanMs: number }>> {
  const warm = startWorkload(url, QUERIES, { clients: a.clients, seed: seed + 100 });
  await new Promise((r) => setTimeout(r, (a.windowS * 1000) / 2));
  await warm.stop();
  await runSql(url, "select pg_stat_statements_reset()");
  const w = startWorkload(url, QUERIES, { clients: a.clients, seed });
  await new Promise((r) => setTimeout(r, a.windowS * 1000));
  const { errors } = await w.stop();
  if (errors.length) throw new Error(`workload errors: ${errors.join("; ")}`);
  const rows = await runSql<{ query: string; calls: string; mean: number }>(url, "select query, calls::text, mean_exec_time as mean from pg_stat_statements where toplevel");
  const out = new Map<string, { calls: number; meanMs: number }>();
  for (const q of QUERIES) {
    const r = rows.find((x) => x.query === q.sql);
    if (r) out.set(q.name, { calls: Number(r.calls), meanMs: r.mean });
  }
  return out;
}

async function buildReference(url: string): Promise<number> {
  const started = performance.now();
  for (const ix of REFERENCE_INDEXES) {
    await runSql(url, `create index concurrently dba_${ix.table}_${ix.columns.join("_")} on ${ix.table} (${ix.columns.join(", ")})`);
  }
  return (performance.now() - started) / 1000;
}

async function dropReference(url: string): Promise<void> {
  for (const ix of REFERENCE_INDEXES) await runSql(url, `drop index concurrently if exists dba_${ix.table}_${ix.columns.join("_")}`);
}

function fmtMs(v: { meanMs: number } | undefined): string {
  return v ? v.meanMs.toFixed(3) : "—";
}

export default async function bench(rawArgs: string[]): Promise<boolean> {
  const a = parse(rawArgs);
  printInputs("index advisor: pg2une's indexes vs a DBA's hand-picked set", {
    rows: `${a.rows} orders, 100000 customers`,
    window: `${a.windowS} s per measurement, ${a.clients} clients`,
    queries: QUERIES.map((q) => `${q.name} [${q.kind}]`).join("; "),
    reference: REFERENCE_INDEXES.map((r) => `${r.table}(${r.columns.join(", ")})`).join(", "),
    note: "max_parallel_workers_per_gather=0 (a shared 2-core machine); timings are noisy while others work",
  });
  const pg = await startTestCluster({ fast: true, settings: { max_parallel_workers_per_gather: "0" } });
  let holding = false;
  try {
    const url = pg.url("shop");
    const loadS = await load(pg, a.rows);
    console.log(`loaded in ${loadS.toFixed(1)} s`);

    await runSql(url, "select pg_stat_reset()");
    const before = await measure(url, a, 1);

    const advice: Advice = await adviseIndexes(url, { thresholds: { minCalls: 2 } }, (l) => console.log(`  advisor: ${l}`));
    console.log(`\nrecommended by pg2une:\n${formatTable(
      ["index", "query", "cost before → after", "est. size", "plan method"],
      advice.recommendations.flatMap((r) =>
        r.queries.map((q, i) => {
          const qa = advice.queries.find((x) => x.queryId === q.queryId);
          return [i === 0 ? r.ddl : "", QUERIES.find((x) => x.sql === qa?.query)?.name ?? q.queryId, `${q.costBefore.toFixed(0)} → ${q.costAfter.toFixed(1)}`, i === 0 ? `${((r.estimatedSizeBytes ?? 0) / 1048576).toFixed(1)} MB` : "", qa?.planMethod ?? ""];
        }),
      ),
    )}\n`);

    // Apply while the workload runs, as on a live database.
    const live = startWorkload(url, QUERIES, { clients: a.clients, seed: 2 });
    let records: ManagedIndexRecord[];
    const applyStarted = performance.now();
    try {
      ({ records } = await createIndexes(
        url,
        {
          indexes: advice.recommendations.map((r) => ({ schema: r.schema, table: r.table, columns: r.columns, queryIds: r.queries.map((q) => q.queryId) })),
          thresholds: { measureWindowMs: Math.max(1000, (a.windowS * 1000) / 2), minCallsPerWindow: 5 },
        },
        (l) => console.log(`  creator: ${l}`),
      ));
    } finally {
      await live.stop();
    }
    const applyS = (performance.now() - applyStarted) / 1000;
    const oursBuildS = records.reduce((s, r) => s + (r.measured.buildMs ?? 0), 0) / 1000;
    console.log(`\napplied:\n${formatTable(
      ["index", "status", "build s", "measured mean ms before → after", "why"],
      records.map((r) => [r.indexName, r.status, ((r.measured.buildMs ?? 0) / 1000).toFixed(2), `${r.measured.before?.meanMs.toFixed(3) ?? "?"} → ${r.measured.after?.meanMs.toFixed(3) ?? "?"}`, r.measured.reason]),
    )}\n`);

    const ours = await measure(url, a, 3);
    await dropIndexes(url, { all: true });
    const refBuildS = await buildReference(url);
    const reference = await measure(url, a, 3);
    await dropReference(url);

    const kept = records.filter((r) => r.status === "kept");
    console.log(`\nper-query window mean (ms):\n${formatTable(
      ["query", "kind", "no index", "pg2une", "reference", "pg2une speed-up", "reference speed-up", "pg2une decision"],
      QUERIES.map((q) => {
        const b = before.get(q.name);
        const o = ours.get(q.name);
        const r = reference.get(q.name);
        const decision = advice.queries.find((x) => x.query === q.sql);
        return [
          q.name,
          q.kind,
          fmtMs(b),
          fmtMs(o),
          fmtMs(r),
          b && o ? `${(b.meanMs / o.meanMs).toFixed(1)}×` : "—",
          b && r ? `${(b.meanMs / r.meanMs).toFixed(1)}×` : "—",
          decision ? `${decision.decision}${decision.index ? ` (${decision.index})` : ""}` : "not collected",
        ];
      }),
    )}\n`);

    const rows: ComparisonRow[] = [];
    let ok = true;
    for (const q of QUERIES) {
      const b = before.get(q.name);
      const o = ours.get(q.name);
      const r = reference.get(q.name);
      if (!b || !o || !r) {
        ok = false;
        rows.push({ metric: `${q.name}: mean ms`, ours: o?.meanMs ?? null, reference: r?.meanMs ?? null, target: "measured", pass: false });
        continue;
      }
      if (q.kind === "helped" && b.meanMs / r.meanMs >= 2) {
        // Sub-millisecond means on a shared machine differ by 2–3× from run to run with the
        // very same index, so the time target is loose; the index set is compared exactly below.
        const pass = b.meanMs / o.meanMs >= 2 && o.meanMs <= r.meanMs * 3;
        ok &&= pass;
        rows.push({ metric: `${q.name}: mean ms`, ours: o.meanMs, reference: r.meanMs, target: "≥2× vs no index, ≤3× ref", pass });
      } else if (q.kind === "none") {
        const decision = advice.queries.find((x) => x.query === q.sql)?.decision;
        const pass = decision !== "index";
        ok &&= pass;
        rows.push({ metric: `${q.name}: mean ms (no index wanted)`, ours: o.meanMs, reference: r.meanMs, target: `decision ${decision}`, pass });
      } else {
        rows.push({ metric: `${q.name}: mean ms`, ours: o.meanMs, reference: r.meanMs });
      }
    }
    const keyOf = (t: string, c: string[]) => `${t}(${c.join(",")})`;
    const oursSet = new Set(kept.map((r) => keyOf(r.tableName, r.columns)));
    const refSet = new Set(REFERENCE_INDEXES.map((r) => keyOf(r.table, r.columns)));
    const sameSet = oursSet.size === refSet.size && [...refSet].every((k) => oursSet.has(k));
    ok &&= sameSet;
    rows.push({ metric: "indexes kept", ours: kept.length, reference: REFERENCE_INDEXES.length, target: "the DBA's set exactly", pass: sameSet });
    rows.push({ metric: "index build time s", ours: oursBuildS, reference: refBuildS });
    rows.push({ metric: "apply wall time s (incl. measuring)", ours: applyS, reference: null });
    printComparison("pg2une", "DBA reference", rows);

    // The CLI on the same database (no pg2une index present now): the listing with costs.
    const cli = await run(process.execPath, [`${root}/runner/bin/pg2une.js`, "advise-indexes", url, "--json", "--min-calls", "2"], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    const listed = JSON.parse(cli.stdout) as Advice;
    console.log(
      `pg2une advise-indexes ${url} --json → ${listed.recommendations.length} indexes:\n` +
        listed.recommendations.map((r) => `  ${r.ddl}  [${r.queries.map((q) => `${q.costBefore.toFixed(0)} → ${q.costAfter.toFixed(1)}`).join(", ")}]`).join("\n"),
    );
    const cliOk = listed.recommendations.length > 0 && listed.recommendations.every((r) => r.queries.every((q) => q.costAfter <= q.costBefore * 0.5));
    ok &&= cliOk;

    if (a.hold) {
      holding = true;
      console.log(`\n--hold: database left running at ${url} (postmaster PID ${pg.pid}); Ctrl-C stops it`);
      await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
      holding = false;
    }
    console.log(ok ? "\nall targets met" : "\nA TARGET WAS MISSED");
    return ok;
  } finally {
    if (!holding) await pg.destroy();
  }
}
