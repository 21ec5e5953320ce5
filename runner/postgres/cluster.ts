/**
 * Start and stop real PostgreSQL clusters: used by `pg2une dev`, by the runner's local canary
 * and by the test harness (one definition for all three).
 *
 * PostgreSQL refuses to run as root, so when we are root the data directory is handed to the
 * `postgres` OS user and the server is spawned with that uid/gid directly (no `su` wrapper), so
 * the PID we hold is the postmaster's own and stopping it by PID is exact.
 *
 * @example
 *   const pg = await startCluster({ dataDir: "/tmp/pg1", port: 54329 });
 *   console.log(pg.url("postgres")); // postgres://postgres@127.0.0.1:54329/postgres
 *   await pg.stop();
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, appendFileSync, openSync, closeSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { findPostgresBinaries, type PostgresBinaries } from "./binaries";
import { PG2UNE_SQL_MARKER } from "../../src/core/canary";
import { pidAlive } from "../os/pid";

export const SUPERUSER = "postgres";
/** Settings every cluster we start gets; callers add or override through `settings`. */
export const BASE_SETTINGS: Readonly<Record<string, string>> = {
  shared_preload_libraries: "'pg_stat_statements'",
  "pg_stat_statements.track": "'top'",
  "pg_stat_statements.max": "5000",
  track_io_timing: "on",
  wal_level: "replica",
  max_wal_senders: "10",
  wal_log_hints: "on",
  unix_socket_directories: "''",
  logging_collector: "off",
  log_min_messages: "warning",
};

export interface OsUser {
  uid: number;
  gid: number;
}

/** The uid/gid to run PostgreSQL as: ourselves, or the `postgres` user when we are root. */
export function postgresOsUser(): OsUser | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", SUPERUSER], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", SUPERUSER], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      "Running as root, and there is no `postgres` OS user to run PostgreSQL as (PostgreSQL refuses root). " +
        "Create one (useradd --system postgres) or run pg2une as a normal user.",
    );
  }
}

/** Recursively give a directory to the OS user PostgreSQL runs as (no-op when not root). */
export function giveToPostgres(path: string, user = postgresOsUser()): void {
  if (!user) return;
  const walk = (p: string) => {
    chownSync(p, user.uid, user.gid);
    if (statSync(p).isDirectory()) for (const entry of readdirSync(p)) walk(join(p, entry));
  };
  walk(path);
}

export interface InitOptions {
  dataDir: string;
  /** Extra postgresql.conf lines, written to pg2une.conf and included. */
  settings?: Record<string, string>;
}

/** initdb with trust auth on loopback; idempotent (an existing cluster is left as it is). */
export function initCluster({ dataDir, settings = {} }: InitOptions, bins: PostgresBinaries = findPostgresBinaries()): void {
  if (existsSync(join(dataDir, "PG_VERSION"))) return;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const user = postgresOsUser();
  giveToPostgres(dataDir, user);
  execFileSync(
    bins.path("initdb"),
    ["-D", dataDir, "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
    { stdio: ["ignore", "pipe", "pipe"], ...(user ?? {}) },
  );
  const conf = Object.entries({ ...BASE_SETTINGS, ...settings })
    .map(([k, v]) => `${k} = ${v}`)
    .join("\n");
  writeFileSync(join(dataDir, "pg2une.conf"), `# written by pg2une\n${conf}\n`);
  appendFileSync(join(dataDir, "postgresql.conf"), "\ninclude_if_exists = 'pg2une.conf'\n");
  // Replication connections from loopback for the local canary (pg_basebackup, streaming).
  appendFileSync(join(dataDir, "pg_hba.conf"), "\nhost replication all 127.0.0.0/8 trust\n");
  giveToPostgres(dataDir, user);
}

export interface StartOptions {
  dataDir: string;
  port: number;
  host?: string;
  /** Server log file; defaults to <dataDir>/server.log. */
  logFile?: string;
  /** `-c name=value` overrides for this start only. */
  overrides?: Record<string, string>;
  /** How long to wait for the server to accept connections. */
  readyTimeoutMs?: number;
  /**
   * Own process group: a terminal's Ctrl-C then reaches only our process, which shuts the
   * children down in order (the dev stack). Default false.
   */
  detached?: boolean;
}

export interface RunningPostgres {
  pid: number;
  host: string;
  port: number;
  dataDir: string;
  logFile: string;
  url(database?: string): string;
  /** Fast shutdown (SIGINT), escalating to SIGQUIT then SIGKILL if it hangs. */
  stop(mode?: "fast" | "immediate" | "smart"): Promise<void>;
  /** True until the postmaster has exited. */
  readonly running: boolean;
}

const STOP_SIGNALS = { smart: "SIGTERM", fast: "SIGINT", immediate: "SIGQUIT" } as const;

export function postgresUrl(host: string, port: number, database = "postgres"): string {
  return `postgres://${SUPERUSER}@${host}:${port}/${database}`;
}

/** Spawns the postmaster and waits until it accepts connections. */
export async function startPostgres(opts: StartOptions, bins: PostgresBinaries = findPostgresBinaries()): Promise<RunningPostgres> {
  const host = opts.host ?? "127.0.0.1";
  const logFile = opts.logFile ?? join(opts.dataDir, "server.log");
  const user = postgresOsUser();
  if (!existsSync(logFile)) writeFileSync(logFile, "");
  if (user) chownSync(logFile, user.uid, user.gid);
  const args = ["-D", opts.dataDir, "-p", String(opts.port), "-c", `listen_addresses=${host}`];
  for (const [k, v] of Object.entries(opts.overrides ?? {})) args.push("-c", `${k}=${v}`);
  const logFd = openSync(logFile, "a");
  const child: ChildProcess = spawn(bins.path("postgres"), args, {
    stdio: ["ignore", logFd, logFd],
    detached: opts.detached ?? false,
    ...(user ?? {}),
  });
  closeSync(logFd);
  let exited = false;
  let exitCode: number | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once("exit", (code) => {
      exited = true;
      exitCode = code;
      resolve();
    });
  });
  child.once("error", () => undefined);
  const url = (database = "postgres") => postgresUrl(host, opts.port, database);
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) {
      throw new Error(`postgres exited with code ${exitCode} while starting on ${host}:${opts.port}:\n${tail(logFile)}`);
    }
    if (await canConnect(url())) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`postgres on ${host}:${opts.port} did not accept connections in time:\n${tail(logFile)}`);
    }
    await sleep(100);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error("postgres did not start (no pid)");
  return {
    pid,
    host,
    port: opts.port,
    dataDir: opts.dataDir,
    logFile,
    url,
    get running() {
      return !exited;
    },
    async stop(mode = "fast") {
      if (exited) return;
      child.kill(STOP_SIGNALS[mode]);
      if (await settlesWithin(exitPromise, 30_000)) return;
      child.kill("SIGQUIT");
      if (await settlesWithin(exitPromise, 5_000)) return;
      child.kill("SIGKILL");
      await exitPromise;
    },
  };
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    // Marked like every pg2une statement: on a fresh canary this is the first `select 1` the
    // server sees, and pg_stat_statements keeps the first text of a queryid, by which the canary
    // share measurement leaves pg2une's own health checks out.
    await client.query(`${PG2UNE_SQL_MARKER} select 1`);
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function settlesWithin(p: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    p.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no server log)";
  }
}

/** PID from an existing postmaster.pid when that process is still alive, else undefined. */
export function livePostmasterPid(dataDir: string): number | undefined {
  const pidFile = join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return pidAlive(pid) ? pid : undefined;
}
