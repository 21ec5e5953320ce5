/**
 * `pg2une collect <postgres-url>`: read metrics straight from a PostgreSQL, no Worker needed.
 *
 *   pg2une collect postgres://u@host/db --json                         one raw sample (cumulative counters)
 *   pg2une collect postgres://u@host/db --interval 10 --count 3 --json  3 derived snapshots (4 samples, 10 s apart)
 *
 * Without --json it prints a human summary (one sample) or one table row per snapshot as it comes.
 */
import pg from "pg";
import { z } from "zod";
import { derive, MIN_WINDOW_SECONDS, TargetNameSchema, type RawSample, type Snapshot } from "../../../src/core/metrics";
import { collectSample } from "../../metrics/collect";
import { sleep } from "../../postgres/cluster";
import { redactUrl as redact } from "../../net/redact";
import { CliError, formatTable, parseCommandArgs, printJson } from "../io";

export const USAGE = `Usage: pg2une collect <postgres-url> [--json] [--interval <seconds>] [--count <n>] [--target <name>] [--top <n>]

  One sample:   prints the raw sample (cumulative counters, server identity, settings).
  --count N:    takes N+1 samples --interval seconds apart (default 10) and prints N derived
                snapshots (tps, qps, latency p50/p95/p99, buffer hit ratio, connections, per-query rows).
  --interval S: seconds between samples (${MIN_WINDOW_SECONDS}..3600); alone it means --count 1.
  --target:     the target name written into samples (default "cli").
  --top N:      pg_stat_statements entries to keep (1..500, default 500).
  --json:       JSON on stdout instead of tables.`;

/** How long to wait for the server before calling it unreachable. */
export const CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_INTERVAL_SECONDS = 10;

const positiveNumber = (what: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, `${what} must be a number`)
    .transform(Number)
    .pipe(z.number().min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`));

const ArgsSchema = z.object({
  json: z.boolean().optional(),
  interval: positiveNumber("interval", MIN_WINDOW_SECONDS, 3600).optional(),
  count: z
    .string()
    .regex(/^\d+$/, "count must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1, "count must be at least 1").max(100_000))
    .optional(),
  target: TargetNameSchema.optional(),
  top: z
    .string()
    .regex(/^\d+$/, "top must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1).max(500))
    .optional(),
  positionals: z.array(z.string()).length(1, "expects exactly one <postgres-url>"),
});

/** postgres:// or postgresql:// URLs only; anything else is a usage error before we touch the network. */
export function parsePostgresUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`not a valid URL: ${JSON.stringify(raw)} (expected postgres://user@host:port/database)\n\n${USAGE}`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new CliError(`unsupported URL scheme ${JSON.stringify(url.protocol)}: use postgres://user@host:port/database\n\n${USAGE}`);
  }
  return url;
}


export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    { json: { type: "boolean" }, interval: { type: "string" }, count: { type: "string" }, target: { type: "string" }, top: { type: "string" } },
    ArgsSchema,
    USAGE,
  );
  const url = parsePostgresUrl(values.positionals[0]!);
  const series = values.count !== undefined || values.interval !== undefined;
  const count = values.count ?? 1;
  const intervalMs = (values.interval ?? DEFAULT_INTERVAL_SECONDS) * 1000;
  const target = values.target ?? "cli";

  // A connection per sample, as the runner and the agent do: one held open between samples would
  // count as a connected client in session_time (connected_sessions_mean and the latency bound).
  const take = async (): Promise<RawSample> => {
    const client = new pg.Client({ connectionString: url.href, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: "pg2une-collect" });
    client.on("error", () => undefined);
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new CliError(`cannot connect to ${redact(url)}: ${(err as Error).message}`, 1);
    }
    try {
      return await collectSample(client, { target, topStatements: values.top });
    } catch (err) {
      throw new CliError(`collecting from ${redact(url)} failed: ${(err as Error).message}`, 1);
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  if (!series) {
    const sample = await take();
    if (values.json) printJson(sample);
    else process.stdout.write(`${describeSample(sample)}\n`);
    return 0;
  }
  const snapshots: Snapshot[] = [];
  let previous = await take();
  let started = Date.now();
  if (!values.json) process.stdout.write(`${SERIES_HEADER}\n`);
  for (let i = 0; i < count; i++) {
    await sleep(Math.max(0, intervalMs - (Date.now() - started)));
    started = Date.now();
    const current = await take();
    const snapshot = derive(previous, current);
    snapshots.push(snapshot);
    if (!values.json) process.stdout.write(`${seriesRow(snapshot)}\n`);
    previous = current;
  }
  if (values.json) printJson(snapshots);
  return 0;
}

function fixed(n: number | null | undefined, digits = 1): string {
  return n === null || n === undefined ? "—" : n.toFixed(digits);
}

const SERIES_COLUMNS = ["time", "window s", "tps", "qps", "p50 ms", "p95 ms", "p99 ms", "hit %", "active/total", "notes"];
const SERIES_WIDTHS = [24, 8, 10, 10, 8, 8, 8, 6, 12, 0];

function padRow(cells: string[]): string {
  return cells
    .map((c, i) => c.padEnd(SERIES_WIDTHS[i] ?? 0))
    .join("  ")
    .trimEnd();
}

const SERIES_HEADER = padRow(SERIES_COLUMNS);

function seriesRow(s: Snapshot): string {
  const notes = [...s.reset_reasons, ...(s.window_issue ? [s.window_issue] : []), ...(s.pg_stat_statements.available ? [] : ["no pg_stat_statements"])];
  return padRow([
    s.snapshot_time,
    fixed(s.window_seconds, 2),
    fixed(s.tps),
    fixed(s.qps),
    fixed(s.latency_p50, 3),
    fixed(s.latency_p95, 3),
    fixed(s.latency_p99, 3),
    s.buffer_hit_ratio === null ? "—" : (s.buffer_hit_ratio * 100).toFixed(2),
    `${s.active_connections}/${s.total_connections}`,
    notes.join(", "),
  ]);
}

function describeSample(s: RawSample): string {
  const d = s.database;
  const a = s.activity;
  const lines = [
    `target ${s.target} · PostgreSQL ${s.server.major} · database ${s.server.database} · collected ${s.collected_at}`,
    `server started ${s.server.postmaster_start_time}${s.server.in_recovery ? " · standby" : ""}`,
    "",
    formatTable(
      ["counter", "value"],
      [
        ["transactions (commit + rollback)", d.xact_commit + d.xact_rollback],
        ["buffer hit ratio since stats reset", d.blks_hit + d.blks_read > 0 ? (d.blks_hit / (d.blks_hit + d.blks_read)).toFixed(4) : "—"],
        ["temp bytes", d.temp_bytes],
        ["deadlocks", d.deadlocks],
        ["checkpoints timed / requested", `${s.checkpoints.timed} / ${s.checkpoints.requested}`],
        ["WAL bytes", s.wal_lsn_bytes ?? s.wal?.wal_bytes ?? "—"],
        ["connections active / idle / idle in tx / waiting / total", `${a.active} / ${a.idle} / ${a.idle_in_transaction + a.idle_in_transaction_aborted} / ${a.waiting_on_locks} / ${a.total}`],
      ],
    ),
    "",
  ];
  if (s.statements.available) {
    const st = s.statements;
    lines.push(`pg_stat_statements ${st.extension_version}: ${st.totals.entries} entries, ${st.totals.calls} calls`);
    const top = st.top.slice(0, 10).map((e) => [
      e.calls,
      e.total_exec_time_ms.toFixed(1),
      e.calls > 0 ? (e.total_exec_time_ms / e.calls).toFixed(3) : "—",
      (e.query ?? "").replace(/\s+/g, " ").slice(0, 70),
    ]);
    if (top.length > 0) lines.push("", formatTable(["calls", "total ms", "mean ms", "query"], top));
    lines.push("", "Rates need two samples: pg2une collect <url> --interval 10 --count 3");
  } else {
    lines.push(`pg_stat_statements unavailable: ${s.statements.message}`, `to enable it: ${s.statements.instruction}`);
  }
  return lines.join("\n");
}
