/**
 * `npm run bench -- metrics [--seconds 60] [--interval 10] [--scale 10] [--clients 8] [--threads 2] [--script tpcb|select|both]`
 *
 * Does pg2une measure what clients see? A real cluster (fsync on), pgbench -c 8 -j 2 -T 60 with a
 * per-transaction log (-l), and pg2une collecting every 10 s with collectSample + derive. Each
 * window's pg2une figures are printed next to pgbench's own over the same window (transactions
 * that finished between the two samples' collected_at, same host clock), for the TPC-B-like and
 * the select-only (-S) scripts.
 *
 * What is compared, honestly:
 * - tps: transactions per second, both sides count the same transactions. pg2une reads
 *   pg_stat_database, which each backend flushes at most once a second (PostgreSQL 15+), and
 *   later when it loses the race for the stats lock; that is the noise a 10 s window sees.
 * - latency: pgbench's is per transaction and client-side (network, client CPU, scheduling
 *   included). pg2une's latency_p* is per transaction and server-side (see
 *   src/core/metrics/transaction-latency.ts): session time inside transactions per transaction
 *   for the mean, the statement mixture for the shape. What the server cannot see is the time
 *   before the first and after the last statement of a transaction, on the client and the wire;
 *   for TPC-B that is small next to the transaction, for a 0.1 ms select-only transaction on
 *   2 busy cores it is most of it. The rows "mean" show that gap directly.
 * - the client mean upper bound (Δsession_time / Δtransactions, PostgreSQL 14+) is the
 *   response-time law R ≤ N/X: it bounds the client-side mean from above and equals it for
 *   closed-loop clients without think time, which pgbench is. Printed next to pgbench's mean,
 *   not judged (a bound on a mean says nothing about percentiles, and pg2une does not decide on it).
 * - statement latency (pg_stat_statements execution time per statement) has no pgbench
 *   counterpart; it is printed for information.
 * Targets: tps ±5 %, p50 and p95 ±25 %, p99 ±35 %, per window.
 */
import pg from "pg";
import { derive, type RawSample, type Snapshot } from "../src/core/metrics";
import { collectSample } from "../runner/metrics/collect";
import { sleep } from "../runner/postgres/cluster";
import { inWindow, pgbenchInit, readTransactionLog, startPgbench, type LoggedTransaction } from "../test/support/pgbench";
import { startTestCluster } from "../test/support/postgres";
import { checkTool } from "../test/support/tools";
import { printComparison, printInputs, ratio, type ComparisonRow } from "./table";

const TARGETS = { tps: 0.05, p50: 0.25, p95: 0.25, p99: 0.35 } as const;

interface Options {
  seconds: number;
  interval: number;
  scale: number;
  clients: number;
  threads: number;
  scripts: Array<"tpcb" | "select">;
}

function parseOptions(args: string[]): Options {
  const get = (name: string, fallback: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
  };
  const int = (name: string, fallback: number) => {
    const v = Number(get(name, String(fallback)));
    if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive whole number`);
    return v;
  };
  const script = get("script", "both");
  if (!["tpcb", "select", "both"].includes(script)) throw new Error("--script must be tpcb, select or both");
  return {
    seconds: int("seconds", 60),
    interval: int("interval", 10),
    scale: int("scale", 10),
    clients: int("clients", 8),
    threads: int("threads", 2),
    scripts: script === "both" ? ["tpcb", "select"] : [script as "tpcb" | "select"],
  };
}

function quantile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

interface Reference {
  tps: number;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

function reference(log: readonly LoggedTransaction[], from: RawSample, to: RawSample): Reference {
  const fromMs = Date.parse(from.collected_at);
  const toMs = Date.parse(to.collected_at);
  const window = inWindow(log, fromMs, toMs);
  const latencies = window.map((t) => t.latencyMs).sort((a, b) => a - b);
  return {
    tps: window.length / ((toMs - fromMs) / 1000),
    mean: latencies.length ? latencies.reduce((s, x) => s + x, 0) / latencies.length : null,
    p50: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    p99: quantile(latencies, 0.99),
  };
}

function within(ours: number | null, ref: number | null, tolerance: number): boolean {
  const r = ratio(ours, ref);
  return r !== null && Math.abs(r - 1) <= tolerance;
}

function rowsFor(label: string, snap: Snapshot, ref: Reference, judged: boolean): ComparisonRow[] {
  const judge = (ours: number | null, theirs: number | null, tol: number) =>
    judged ? { target: `±${Math.round(tol * 100)} %`, pass: within(ours, theirs, tol) } : {};
  return [
    { metric: `${label} tps`, ours: snap.tps, reference: ref.tps, ...judge(snap.tps, ref.tps, TARGETS.tps) },
    { metric: `${label} latency mean ms (server-side)`, ours: snap.latency_mean, reference: ref.mean },
    { metric: `${label} client mean upper bound ms`, ours: snap.client_latency_mean_upper_bound, reference: ref.mean, target: "≥ ref (bound)" },
    { metric: `${label} latency p50 ms (server-side est.)`, ours: snap.latency_p50, reference: ref.p50, ...judge(snap.latency_p50, ref.p50, TARGETS.p50) },
    { metric: `${label} latency p95 ms (server-side est.)`, ours: snap.latency_p95, reference: ref.p95, ...judge(snap.latency_p95, ref.p95, TARGETS.p95) },
    { metric: `${label} latency p99 ms (server-side est.)`, ours: snap.latency_p99, reference: ref.p99, ...judge(snap.latency_p99, ref.p99, TARGETS.p99) },
  ];
}

async function runScript(url: string, script: "tpcb" | "select", opts: Options): Promise<boolean> {
  // A fresh connection per sample, as the runner and the agent do: a session held open between
  // samples would count as a ninth connected client in session_time (the client-latency bound).
  const collect = async (): Promise<RawSample> => {
    const client = new pg.Client({ connectionString: url, application_name: "pg2une-bench" });
    await client.connect();
    try {
      return await collectSample(client, { target: "bench" });
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const samples: RawSample[] = [];
  const bench = startPgbench(url, { clients: opts.clients, threads: opts.threads, seconds: opts.seconds, selectOnly: script === "select", log: true });
  try {
    const start = Date.now();
    const windows = Math.floor(opts.seconds / opts.interval);
    for (let i = 0; i <= windows; i++) {
      await sleep(Math.max(0, start + i * opts.interval * 1000 - Date.now()));
      samples.push(await collect());
    }
    const { output, code } = await bench.done;
    if (code !== 0) throw new Error(`pgbench failed (${code}):\n${output}`);
    const log = readTransactionLog(bench.logDir!);
    const title = script === "tpcb" ? "TPC-B-like" : "select-only (-S)";
    const pgbenchSummary = output
      .split("\n")
      .filter((l) => /^(latency average|tps|number of transactions actually processed)/.test(l))
      .join("; ");
    console.log(`### ${title}: pgbench says ${pgbenchSummary}\n`);
    const rows: ComparisonRow[] = [];
    const stmt: ComparisonRow[] = [];
    for (let i = 1; i < samples.length; i++) {
      const snap = derive(samples[i - 1]!, samples[i]!);
      const ref = reference(log, samples[i - 1]!, samples[i]!);
      const label = `w${i} (${snap.window_seconds?.toFixed(1)} s)`;
      rows.push(...rowsFor(label, snap, ref, true));
      stmt.push(
        { metric: `${label} statement p50 ms`, ours: snap.statement_latency_p50, reference: null },
        { metric: `${label} statement p99 ms`, ours: snap.statement_latency_p99, reference: null },
        { metric: `${label} statements/xact`, ours: snap.statements_per_transaction, reference: null },
      );
    }
    const whole = derive(samples[0]!, samples[samples.length - 1]!);
    const wholeRef = reference(log, samples[0]!, samples[samples.length - 1]!);
    rows.push(...rowsFor(`all (${whole.window_seconds?.toFixed(1)} s)`, whole, wholeRef, false));
    console.log(
      [
        "Rows (pgbench -l column: the same transactions, client side, finished inside the window):",
        "  tps                          pg_stat_database commits+rollbacks per second          (target ±5 %)",
        "  latency mean (server-side)   Δ(active_time + idle_in_transaction_time) / Δxacts: what the server sees; a lower bound on the client mean",
        "  client mean upper bound      Δsession_time / Δxacts (response-time law): an upper bound on the client mean, equal to it for",
        "                               closed-loop clients without think time such as pgbench; reported only, never used for decisions",
        "  p50/p95/p99 (server-side est.) the estimator of transaction-latency.ts, judged against pgbench's client-side percentiles",
        "",
      ].join("\n"),
    );
    printComparison("pg2une", "pgbench -l", rows);
    console.log("Statement-level (pg_stat_statements execution time per statement; no pgbench counterpart):\n");
    printComparison("pg2une", "—", stmt);
    const judged = rows.filter((r) => r.pass !== undefined);
    const missed = judged.filter((r) => !r.pass);
    for (const metric of ["tps", "p50", "p95", "p99"]) {
      const rs = judged.filter((r) => (metric === "tps" ? r.metric.endsWith(" tps") : r.metric.includes(` latency ${metric} ms`)));
      const ratios = rs.map((r) => ratio(r.ours, r.reference)).filter((x): x is number => x !== null);
      const worst = ratios.reduce((w, x) => (Math.abs(x - 1) > Math.abs(w - 1) ? x : w), 1);
      console.log(`  ${title} ${metric}: ${rs.length - rs.filter((r) => !r.pass).length}/${rs.length} windows on target; ratio range ${Math.min(...ratios).toFixed(3)}..${Math.max(...ratios).toFixed(3)}, worst ${worst.toFixed(3)}`);
    }
    const bounds = rows.filter((r) => r.metric.includes("upper bound") && !r.metric.startsWith("all")).map((r) => ratio(r.ours, r.reference)).filter((x): x is number => x !== null);
    if (bounds.length > 0) {
      console.log(`  ${title} client mean upper bound / pgbench mean: ${Math.min(...bounds).toFixed(3)}..${Math.max(...bounds).toFixed(3)} over ${bounds.length} windows (a bound: ≥ 1 expected, ≈ 1 for closed-loop pgbench)`);
    }
    const share = ratio(whole.latency_mean, wholeRef.mean);
    if (share !== null) {
      console.log(
        `  ${title}: the server sees ${(share * 100).toFixed(0)} % of the client's mean transaction latency ` +
          `(${whole.latency_mean?.toFixed(3)} of ${wholeRef.mean?.toFixed(3)} ms); the rest is client CPU, the wire and scheduling, invisible to pg_stat_*.`,
      );
    }
    console.log("");
    return missed.length === 0;
  } finally {
    await bench.stop();
  }
}

export default async function metricsBench(args: string[]): Promise<boolean> {
  const opts = parseOptions(args);
  const pgbench = checkTool("pgbench", "Debian: apt-get install postgresql-client-15");
  if (!pgbench.ok) throw new Error(pgbench.why);
  printInputs("metrics: pg2une (collectSample + derive) vs pgbench's own per-transaction log", {
    cluster: "PostgreSQL from findPostgresBinaries(), fsync on, synchronous_commit on, pg_stat_statements preloaded",
    pgbench: `-c ${opts.clients} -j ${opts.threads} -T ${opts.seconds} -l, scale ${opts.scale}`,
    collect: `every ${opts.interval} s, a fresh connection each time (as the runner and the agent)`,
    scripts: opts.scripts.join(", "),
    targets: "tps ±5 %, latency p50 ±25 %, p95 ±25 %, p99 ±35 % (per window)",
    note: "pg2une latency = per transaction, server side; pgbench latency = per transaction, client side",
  });
  const cluster = await startTestCluster({ fast: false });
  try {
    pgbenchInit(cluster.url(), opts.scale);
    await cluster.query("checkpoint");
    let ok = true;
    for (const script of opts.scripts) ok = (await runScript(cluster.url(), script, opts)) && ok;
    return ok;
  } finally {
    await cluster.destroy();
  }
}
