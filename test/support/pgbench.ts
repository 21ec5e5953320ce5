/**
 * pgbench as a load generator and as the reference for throughput and latency: tests and
 * benchmarks start it by PID, read its per-transaction log (-l), and stop it in afterAll.
 *
 * The -l log has one line per transaction: `client_id transaction_no time_us script_no
 * time_epoch time_us_fraction`, where time_us is the transaction's latency and the epoch pair is
 * when it finished.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findTool } from "../../runner/postgres/binaries";

export function pgbenchPath(): string | undefined {
  return findTool("pgbench");
}

function requirePgbench(): string {
  const path = pgbenchPath();
  if (!path) throw new Error("pgbench is not installed (Debian: apt-get install postgresql-client)");
  return path;
}

/** pgbench -i at the given scale (scale 1 = 100 000 accounts). */
export function pgbenchInit(url: string, scale: number): void {
  execFileSync(requirePgbench(), ["-i", "-q", "-s", String(scale), url], { stdio: ["ignore", "ignore", "pipe"] });
}

export interface PgbenchOptions {
  clients: number;
  threads: number;
  seconds: number;
  /** -S: the built-in select-only script instead of TPC-B-like. */
  selectOnly?: boolean;
  /** Write the per-transaction log (-l) into a fresh temp dir. */
  log?: boolean;
  /** -R: target transactions per second (throttled), instead of as fast as possible. */
  rate?: number;
  /** -f: a custom script file instead of the built-in TPC-B-like one. */
  script?: string;
}

export interface PgbenchRun {
  pid: number;
  /** Temp dir holding the -l log files (when log was asked for). */
  logDir: string | undefined;
  /** Resolves with pgbench's stdout+stderr when it exits. */
  done: Promise<{ code: number | null; output: string }>;
  /** Stops pgbench (SIGINT, then SIGKILL) and removes the log dir. */
  stop(): Promise<void>;
}

export function startPgbench(url: string, opts: PgbenchOptions): PgbenchRun {
  const logDir = opts.log ? mkdtempSync(join(tmpdir(), "pg2une-pgbench-")) : undefined;
  if (logDir) chmodSync(logDir, 0o755);
  const args = ["-n", "-c", String(opts.clients), "-j", String(opts.threads), "-T", String(opts.seconds)];
  if (opts.selectOnly) args.push("-S");
  if (opts.script !== undefined) args.push("-f", opts.script);
  if (opts.rate !== undefined) args.push("-R", String(opts.rate));
  if (logDir) args.push("-l");
  args.push(url);
  const child: ChildProcess = spawn(requirePgbench(), args, { cwd: logDir ?? tmpdir(), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d) => (output += String(d)));
  child.stderr?.on("data", (d) => (output += String(d)));
  let exited = false;
  const done = new Promise<{ code: number | null; output: string }>((resolve) => {
    // "close", not "exit": the summary may still be in the pipe when the process exits.
    child.once("close", (code) => {
      exited = true;
      resolve({ code, output });
    });
  });
  if (child.pid === undefined) throw new Error("pgbench did not start");
  return {
    pid: child.pid,
    logDir,
    done,
    async stop() {
      if (!exited) {
        child.kill("SIGINT");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await done;
        clearTimeout(timer);
      }
      if (logDir) rmSync(logDir, { recursive: true, force: true });
    },
  };
}

/** pgbench's own "tps = … (without initial connection time)". */
export function reportedTps(output: string): number | undefined {
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(output);
  return m ? Number(m[1]) : undefined;
}

export interface LoggedTransaction {
  /** When it finished, epoch milliseconds (microsecond precision). */
  endMs: number;
  latencyMs: number;
}

export function readTransactionLog(logDir: string): LoggedTransaction[] {
  const out: LoggedTransaction[] = [];
  for (const file of readdirSync(logDir)) {
    if (!file.startsWith("pgbench_log")) continue;
    for (const line of readFileSync(join(logDir, file), "utf8").split("\n")) {
      const f = line.trim().split(/\s+/);
      if (f.length < 6) continue;
      const latencyUs = Number(f[2]);
      const endMs = Number(f[4]) * 1000 + Number(f[5]) / 1000;
      if (Number.isFinite(latencyUs) && Number.isFinite(endMs)) out.push({ endMs, latencyMs: latencyUs / 1000 });
    }
  }
  return out.sort((a, b) => a.endMs - b.endMs);
}

/** Transactions that finished in (fromMs, toMs]. */
export function inWindow(log: readonly LoggedTransaction[], fromMs: number, toMs: number): LoggedTransaction[] {
  return log.filter((t) => t.endMs > fromMs && t.endMs <= toMs);
}

export interface PgbenchSummary {
  exitCode: number | null;
  /** "number of transactions actually processed". */
  processed: number;
  /** "number of failed transactions" (pgbench 15 counts failures it retried out of). */
  failed: number;
  /** Clients that aborted on an error; pgbench then exits with 2 and its counts are incomplete. */
  abortedClients: number;
  tps: number;
  output: string;
}

/**
 * What a finished run reports. A run lost a transaction when pgbench counted one failed, a
 * client aborted, or it exited non-zero, so tests check all three.
 *
 * @example
 *   const summary = pgbenchSummary(await run.done);
 *   expect(summary).toMatchObject({ exitCode: 0, failed: 0, abortedClients: 0 });
 */
export function pgbenchSummary(result: { code: number | null; output: string }): PgbenchSummary {
  const num = (re: RegExp) => Number(re.exec(result.output)?.[1] ?? NaN);
  return {
    exitCode: result.code,
    processed: num(/number of transactions actually processed: (\d+)/),
    failed: num(/number of failed transactions: (\d+)/),
    abortedClients: (result.output.match(/client \d+ (script \d+ )?aborted/g) ?? []).length,
    tps: reportedTps(result.output) ?? NaN,
    output: result.output,
  };
}
