/**
 * The demo's workload: pgbench with the demo's own scripts (written into the state dir), through
 * PgBouncer's `rw` entry, at a fixed rate. A fixed rate keeps throughput flat while the machine
 * can carry it, so the baseline pg2une learns is steady and a degradation shows as a clear drop
 * in tps and a jump in latency. pgbench runs in back-to-back chunks, so each chunk's own report
 * (tps, latency, failures) goes into the log, and a chunk that fails (a switchover, a restart)
 * is simply followed by the next one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findTool } from "../../postgres/binaries";

export const DEMO_WORKLOAD = {
  /** pgbench -i scale: 400 000 accounts (≈ 50 MB), big enough that a sequential scan hurts. */
  scale: 4,
  clients: 4,
  threads: 2,
  /** -R: transactions per second the clients aim for (well under a 2-core machine's capacity). */
  rate: 200,
  /** Seconds per pgbench run; each prints one line of results. */
  chunkSeconds: 30,
  /** Pause before the next chunk after one failed (e.g. PgBouncer reloading). */
  retryDelayMs: 1_000,
} as const;

/** Reads by primary key, as an application's lookups (9 in 10 transactions). */
export const LOOKUP_SCRIPT = `-- pg2une demo: an account lookup by primary key
\\set aid random(1, 100000 * :scale)
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
`;

/** A small write transaction (1 in 10): a balance change and its history row. */
export const TRANSFER_SCRIPT = `-- pg2une demo: a balance change and its history row
\\set aid random(1, 100000 * :scale)
\\set tid random(1, 10 * :scale)
\\set bid random(1, 1 * :scale)
\\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
END;
`;

export class PgbenchMissingError extends Error {
  override name = "PgbenchMissingError";
}

export function requirePgbench(): string {
  const path = findTool("pgbench");
  if (!path) {
    throw new PgbenchMissingError(
      "the demo drives its workload with pgbench, which is not installed. It ships with PostgreSQL's client tools " +
        "(Debian/Ubuntu: apt-get install postgresql-client; macOS: brew install libpq; nix develop has it); or set PG_BIN to a PostgreSQL bin directory that has it",
    );
  }
  return path;
}

/** Writes the scripts into `dir`; returns `-f` arguments with their weights. */
export function writeDemoScripts(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const lookup = join(dir, "lookup.sql");
  const transfer = join(dir, "transfer.sql");
  writeFileSync(lookup, LOOKUP_SCRIPT);
  writeFileSync(transfer, TRANSFER_SCRIPT);
  return ["-f", `${lookup}@9`, "-f", `${transfer}@1`];
}

/** `pgbench -i`: fresh tables and data every demo (it drops the old ones), so each demo starts alike. */
export async function initPgbenchTables(pgbench: string, url: string, scale: number): Promise<void> {
  const { code, output } = await runToEnd(pgbench, ["-i", "-q", "-s", String(scale), url]);
  if (code !== 0) throw new Error(`pgbench -i failed (exit ${code}):\n${output}`);
}

export interface ChunkReport {
  seconds: number;
  exitCode: number | null;
  processed: number;
  failed: number;
  tps: number | null;
  latencyMs: number | null;
  /** pgbench's own output, for a failed chunk. */
  output: string;
}

/** pgbench's summary lines → numbers (what is missing stays null / 0). */
export function parsePgbenchReport(output: string): Pick<ChunkReport, "processed" | "failed" | "tps" | "latencyMs"> {
  const num = (re: RegExp) => {
    const m = re.exec(output);
    return m ? Number(m[1]) : null;
  };
  return {
    processed: num(/number of transactions actually processed: (\d+)/) ?? 0,
    failed: num(/number of failed transactions: (\d+)/) ?? 0,
    tps: num(/tps = ([\d.]+) \(without initial connection time\)/),
    latencyMs: num(/latency average = ([\d.]+) ms/),
  };
}

export interface DemoWorkload {
  /** PIDs of the pgbench run in progress (for the dev stack's records). */
  readonly pid: number | undefined;
  /** Stop the chunk in progress and do not start another. */
  stop(): Promise<void>;
}

export interface WorkloadOptions {
  pgbench: string;
  url: string;
  scriptArgs: string[];
  onChunk: (report: ChunkReport) => void;
  rate?: number;
  chunkSeconds?: number;
}

export function startDemoWorkload(opts: WorkloadOptions): DemoWorkload {
  const chunkSeconds = opts.chunkSeconds ?? DEMO_WORKLOAD.chunkSeconds;
  const args = [
    "-n",
    "-c", String(DEMO_WORKLOAD.clients),
    "-j", String(DEMO_WORKLOAD.threads),
    "-R", String(opts.rate ?? DEMO_WORKLOAD.rate),
    "-T", String(chunkSeconds),
    ...opts.scriptArgs,
    opts.url,
  ];
  let stopping = false;
  let current: ChildProcess | undefined;
  const loop = (async () => {
    while (!stopping) {
      const started = Date.now();
      const child = spawn(opts.pgbench, args, { stdio: ["ignore", "pipe", "pipe"] });
      current = child;
      const { code, output } = await collect(child);
      current = undefined;
      if (stopping) break;
      opts.onChunk({ seconds: Math.round((Date.now() - started) / 1000), exitCode: code, ...parsePgbenchReport(output), output });
      if (code !== 0) await new Promise((r) => setTimeout(r, DEMO_WORKLOAD.retryDelayMs));
    }
  })();
  return {
    get pid() {
      return current?.pid;
    },
    async stop() {
      stopping = true;
      const child = current;
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await loop;
        clearTimeout(timer);
      } else {
        await loop;
      }
    },
  };
}

function collect(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = "";
  child.stdout?.on("data", (d) => (output += String(d)));
  child.stderr?.on("data", (d) => (output += String(d)));
  return new Promise((resolve) => {
    child.once("error", (err) => {
      output += err.message;
    });
    // "close": the summary may still be in the pipe when the process exits.
    child.once("close", (code) => resolve({ code, output }));
  });
}

function runToEnd(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return collect(spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] }));
}
