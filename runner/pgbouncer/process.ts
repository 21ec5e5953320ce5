/**
 * Starts and stops a PgBouncer process from a typed config (./config). As root it runs as the
 * `postgres` OS user, like PostgreSQL (PgBouncer refuses to run as root). Stopped by its PID.
 *
 * @example
 *   const bouncer = await startPgbouncer({ config: pgbouncerConfig({ ... }) });
 *   await bouncer.reconfigure(newConfig); // rewrite ini atomically + RELOAD
 *   await bouncer.stop();
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { findTool } from "../postgres/binaries";
import { giveToPostgres, postgresOsUser, sleep } from "../postgres/cluster";
import { adminUrl, reload, show } from "./admin";
import { writePgbouncerFiles, type PgbouncerConfig } from "./config";

export interface StartPgbouncerOptions {
  config: PgbouncerConfig;
  /** The pgbouncer binary; default: found on PATH, /usr/sbin, /usr/local/sbin. */
  binary?: string;
  /** Each line PgBouncer logs (it logs to stderr unless config.logFile is set). */
  onLine?: (line: string) => void;
  /** Own process group, so a terminal's Ctrl-C reaches only our parent, which stops us in order. */
  detached?: boolean;
  readyTimeoutMs?: number;
}

export interface RunningPgbouncer {
  pid: number;
  host: string;
  port: number;
  iniPath: string;
  adminUrl: string;
  /** postgres://user@host:port/<database> through PgBouncer. */
  url(database: string, user?: string): string;
  /** Rewrite the ini (atomically) and RELOAD. */
  reconfigure(config: PgbouncerConfig): Promise<void>;
  stop(): Promise<void>;
  readonly running: boolean;
}

const DEFAULT_READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;

export function findPgbouncer(): string | undefined {
  return findTool("pgbouncer");
}

export async function startPgbouncer(opts: StartPgbouncerOptions): Promise<RunningPgbouncer> {
  const binary = opts.binary ?? findPgbouncer();
  if (!binary) throw new Error("pgbouncer is not installed (Debian: apt-get install pgbouncer)");
  const config = opts.config;
  const owner = postgresOsUser();
  mkdirSync(config.dir, { recursive: true, mode: 0o750 });
  giveToPostgres(config.dir, owner);
  const paths = writePgbouncerFiles(config, owner);
  const child = spawn(binary, [paths.ini], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: opts.detached ?? false,
    ...(owner ?? {}),
  });
  const recent: string[] = [];
  const onLine = (line: string) => {
    recent.push(line);
    if (recent.length > 30) recent.shift();
    opts.onLine?.(line);
  };
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on("line", onLine);
  let exited = false;
  let exitCode: number | null = null;
  const exitPromise = new Promise<void>((resolve) =>
    child.once("exit", (code) => {
      exited = true;
      exitCode = code;
      resolve();
    }),
  );
  child.once("error", (err) => onLine(`spawn failed: ${err.message}`));

  const admin = adminUrl(config.listen.host, config.listen.port, config.adminUsers[0]);
  const deadline = Date.now() + (opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  for (;;) {
    if (exited) throw new Error(`pgbouncer exited with code ${exitCode} while starting:\n${recent.join("\n")}`);
    try {
      await show(admin, "VERSION");
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`pgbouncer on ${config.listen.host}:${config.listen.port} did not answer in time:\n${recent.join("\n")}`);
      }
      await sleep(100);
    }
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error("pgbouncer did not start (no pid)");
  const host = config.listen.host;
  const port = config.listen.port;
  return {
    pid,
    host,
    port,
    iniPath: paths.ini,
    adminUrl: admin,
    url: (database, user = "postgres") => `postgres://${user}@${host.includes(":") ? `[${host}]` : host}:${port}/${database}`,
    get running() {
      return !exited;
    },
    async reconfigure(next) {
      if (next.listen.host !== host || next.listen.port !== port || next.dir !== config.dir) {
        throw new Error("reconfigure cannot change listen address or dir (PgBouncer needs a restart for that)");
      }
      writePgbouncerFiles(next, owner);
      await reload(admin);
    },
    async stop() {
      if (exited) return;
      // SIGTERM = immediate shutdown (SIGINT would wait for every client to leave).
      child.kill("SIGTERM");
      if (await settles(exitPromise, STOP_GRACE_MS)) return;
      child.kill("SIGKILL");
      await exitPromise;
    },
  };
}

function settles(p: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void p.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
