/**
 * The local canary: a `pg_basebackup -R -X stream -c fast` copy of the primary in the runner's
 * state dir, started as a hot standby on another loopback address with the primary's port
 * (PgBouncer 1.18 gives all hosts of an entry one port). For dev, tests and single-host installs.
 *
 * @example
 *   const backend = localCanaryBackend({ stateDir: ".pg2une/runner" });
 *   const canary = await backend.launch({ primaryUrl: "postgres://postgres@127.0.0.1:5432/app" });
 *   canary.host; // "127.0.0.2"
 *   await backend.teardown(canary);
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isPortFree } from "../net/ports";
import { giveToPostgres, livePostmasterPid, startPostgres, type RunningPostgres } from "../postgres/cluster";
import { runAsPostgres, stopPostmaster } from "../postgres/control";
import { CanaryBackendError, type CanaryBackend, type LaunchRequest } from "./backend";
import { parsePostgresUrl, query, withHost } from "./sql";
import { waitUntilStreaming } from "./standby";
import type { LocalCanary } from "./state";

/** Loopback addresses tried for the canary, in order (the primary's own is skipped). */
export const LOCAL_CANARY_HOSTS: readonly string[] = Array.from({ length: 30 }, (_, i) => `127.0.0.${i + 2}`);
/** pg_basebackup of a large primary takes a while; this bounds a stuck one. */
export const BASEBACKUP_TIMEOUT_MS = 30 * 60_000;

/**
 * Settings that say where a server's files and sockets are: never copied from the primary's
 * configuration into a canary that has to write its own generated postgresql.conf.
 */
const LOCATION_SETTINGS = new Set(["data_directory", "config_file", "hba_file", "ident_file", "external_pid_file", "port", "listen_addresses"]);

export interface LocalBackendOptions {
  stateDir: string;
  /** Where canaries' directories go; default <stateDir>/canaries. */
  canaryDir?: string | undefined;
  /** How long a started canary may take to stream from the primary. */
  streamingTimeoutMs?: number;
}

/** Postmasters this process started, so a stop also reaps the child it holds. */
const started = new Map<string, RunningPostgres>();

export function localCanaryBackend(opts: LocalBackendOptions): CanaryBackend {
  const root = opts.canaryDir ?? join(opts.stateDir, "canaries");

  async function start(canary: LocalCanary, primaryUrl?: string): Promise<void> {
    const server = await startPostgres({
      dataDir: canary.dataDir,
      port: canary.port,
      host: canary.host,
      logFile: canary.logFile,
      // Identity only: every tunable setting stays with ALTER SYSTEM (a -c would override it).
      overrides: { hot_standby: "on", cluster_name: "pg2une-canary" },
    });
    started.set(canary.dataDir, server);
    const url = withHost(primaryUrl ?? `postgres://postgres@${canary.host}:${canary.port}/postgres`, canary.host, canary.port);
    await waitUntilStreaming(url, opts.streamingTimeoutMs);
  }

  return {
    kind: "local",
    canRestart: true,

    async launch(req: LaunchRequest): Promise<LocalCanary> {
      const primary = parsePostgresUrl(req.primaryUrl);
      const host = req.host ?? (await pickHost(primary.host, primary.port));
      if (host === primary.host) throw new CanaryBackendError(`the canary needs an address other than the primary's (${host})`);
      if (!(await isPortFree(primary.port, host))) {
        throw new CanaryBackendError(`${host}:${primary.port} is taken; the canary must listen on the primary's port at a free address`);
      }
      const dir = join(root, `${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}`);
      const canary: LocalCanary = { backend: "local", host, port: primary.port, dir, dataDir: join(dir, "data"), logFile: join(dir, "server.log") };
      // The parent stays ours but traversable; the canary's own dir belongs to PostgreSQL's user.
      mkdirSync(root, { recursive: true, mode: 0o755 });
      mkdirSync(dir, { mode: 0o700 });
      giveToPostgres(dir);
      try {
        await runAsPostgres(
          "pg_basebackup",
          ["-d", `host=${primary.host} port=${primary.port} user=${primary.user}`, "-D", canary.dataDir, "-R", "-X", "stream", "-c", "fast", "-l", "pg2une canary"],
          { timeoutMs: BASEBACKUP_TIMEOUT_MS },
        ).catch((err: Error) => {
          throw new CanaryBackendError(
            `${err.message}${/Permission denied|could not create directory/.test(err.message) ? ` (the postgres OS user must be able to reach ${dir}: make its parent directories traversable, or set PG2UNE_CANARY_DIR to a directory it can reach)` : ""}`,
          );
        });
        await writeConfigFilesIfAbsent(req.primaryUrl, canary.dataDir);
        await start(canary, req.primaryUrl);
      } catch (err) {
        await stopPostmaster(canary.dataDir, "immediate").catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      return canary;
    },

    async restart(canary) {
      if (canary.backend !== "local") throw new CanaryBackendError(`not a local canary: ${canary.backend}`);
      await stop(canary.dataDir);
      await start(canary);
    },

    async teardown(canary) {
      if (canary.backend !== "local") throw new CanaryBackendError(`not a local canary: ${canary.backend}`);
      await stop(canary.dataDir, "fast");
      rmSync(canary.dir, { recursive: true, force: true });
    },
  };
}

/** Stops a local server by data dir (whoever started it) and forgets our handle to it. */
export async function stop(dataDir: string, mode: "fast" | "immediate" = "fast"): Promise<void> {
  const handle = started.get(dataDir);
  started.delete(dataDir);
  if (handle?.running) await handle.stop(mode);
  else if (livePostmasterPid(dataDir) !== undefined) await stopPostmaster(dataDir, mode);
}

async function pickHost(primaryHost: string, port: number): Promise<string> {
  for (const host of LOCAL_CANARY_HOSTS) {
    if (host !== primaryHost && (await isPortFree(port, host))) return host;
  }
  throw new CanaryBackendError(`no loopback address in 127.0.0.2–127.0.0.31 has port ${port} free for the canary`);
}

/**
 * A primary whose configuration lives outside its data directory (Debian: /etc/postgresql)
 * gives a base backup without postgresql.conf / pg_hba.conf. The canary then gets a
 * postgresql.conf of the primary's file-configured settings (paths left out) and a copy of
 * its pg_hba.conf / pg_ident.conf, read through SQL as superuser.
 */
async function writeConfigFilesIfAbsent(primaryUrl: string, dataDir: string): Promise<void> {
  const confPath = join(dataDir, "postgresql.conf");
  if (!existsSync(confPath)) {
    const rows = await query<{ name: string; setting: string; vartype: string }>(
      primaryUrl,
      "select name, setting, vartype from pg_settings where source = 'configuration file' order by name",
    );
    const lines = rows
      .filter((r) => !LOCATION_SETTINGS.has(r.name))
      .map((r) => `${r.name} = '${r.setting.replace(/'/g, "''")}'`);
    writeFileSync(confPath, `# written by pg2une for a canary (the primary keeps its configuration elsewhere)\n${lines.join("\n")}\n`);
  }
  for (const [file, setting] of [
    ["pg_hba.conf", "hba_file"],
    ["pg_ident.conf", "ident_file"],
  ] as const) {
    const path = join(dataDir, file);
    if (existsSync(path)) continue;
    const [row] = await query<{ text: string }>(primaryUrl, `select pg_read_file(current_setting('${setting}')) as text`);
    writeFileSync(path, row?.text ?? "");
  }
  giveToPostgres(dataDir);
}
