/**
 * Control of a PostgreSQL server by its data directory, whoever started it: stop it through the
 * postmaster's PID (from postmaster.pid), read pg_controldata, run a server tool as the
 * PostgreSQL OS user. Used by the local canary and the switchover, which act on servers this
 * process may not have spawned.
 *
 * @example
 *   await stopPostmaster("/var/lib/pg/data", "fast");
 *   controlData("/var/lib/pg/data")["Latest checkpoint location"]; // "0/3000060"
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { findPostgresBinaries, findTool, type PostgresBinaries } from "./binaries";
import { livePostmasterPid, postgresOsUser, sleep } from "./cluster";
import { pidAlive } from "../os/pid";

/** How long a fast shutdown may take before we escalate to immediate, then SIGKILL. */
export const FAST_STOP_TIMEOUT_MS = 30_000;
const STOP_POLL_MS = 25;

const SIGNALS = { smart: "SIGTERM", fast: "SIGINT", immediate: "SIGQUIT" } as const;
export type StopMode = keyof typeof SIGNALS;


async function exitsWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    await sleep(STOP_POLL_MS);
  }
  return !pidAlive(pid);
}

/**
 * Stops the postmaster of `dataDir` (no-op when none runs) and waits for it to exit; a server
 * that ignores the requested mode is escalated to immediate, then killed.
 * @returns the PID it stopped, or undefined when nothing was running
 */
export async function stopPostmaster(dataDir: string, mode: StopMode = "fast", timeoutMs = FAST_STOP_TIMEOUT_MS): Promise<number | undefined> {
  const pid = livePostmasterPid(dataDir);
  if (pid === undefined) return undefined;
  process.kill(pid, SIGNALS[mode]);
  if (await exitsWithin(pid, timeoutMs)) return pid;
  process.kill(pid, "SIGQUIT");
  if (await exitsWithin(pid, 5_000)) return pid;
  process.kill(pid, "SIGKILL");
  await exitsWithin(pid, 5_000);
  return pid;
}

/**
 * Path of a server-side tool of the same installation as `postgres` (pg_basebackup,
 * pg_controldata, pg_rewind). A PATH directory may hold only symlinks to initdb/postgres, so
 * the symlink's target directory is tried before the PATH.
 */
export function serverToolPath(tool: string, bins: PostgresBinaries = findPostgresBinaries()): string {
  if (existsSync(bins.path(tool))) return bins.path(tool);
  const realBindir = dirname(realpathSync(bins.path("postgres")));
  if (existsSync(join(realBindir, tool))) return join(realBindir, tool);
  const found = findTool(tool);
  if (found) return found;
  throw new Error(`${tool} not found next to ${bins.path("postgres")} or on the PATH; it ships with the PostgreSQL server package`);
}

/** pg_controldata of a data directory as name → value ("Latest checkpoint location" → "0/3000060"). */
export function controlData(dataDir: string, bins: PostgresBinaries = findPostgresBinaries()): Record<string, string> {
  const out = execFileSync(serverToolPath("pg_controldata", bins), ["-D", dataDir], { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
  const fields: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) fields[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return fields;
}

/** Runs a PostgreSQL tool (pg_basebackup, pg_rewind …) as the PostgreSQL OS user; rejects with its stderr. */
export function runAsPostgres(tool: string, args: string[], opts: { timeoutMs?: number; bins?: PostgresBinaries } = {}): Promise<string> {
  const bins = opts.bins ?? findPostgresBinaries();
  const user = postgresOsUser();
  return new Promise((resolve, reject) => {
    execFile(
      serverToolPath(tool, bins),
      args,
      { encoding: "utf8", timeout: opts.timeoutMs ?? 600_000, env: { ...process.env, LC_ALL: "C" }, cwd: "/", ...(user ?? {}) },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${tool} failed: ${(stderr || err.message).trim()}`));
        else resolve(stdout);
      },
    );
  });
}
