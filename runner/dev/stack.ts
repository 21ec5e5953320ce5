/**
 * The whole local stack, in start order:
 *   preflight → PostgreSQL: the target, and pg2une's history db (migrated) → WebSocket→TCP
 *   bridge → runner → PgBouncer (when installed; its ini is the runner's, see below) → Worker
 *   (wrangler dev) → cron trigger.
 * `stop()` goes the other way; every child is stopped by its PID / process group and waited for.
 * If a child dies on its own, `failed` resolves with its name so the caller can stop the rest.
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { totalmem } from "node:os";
import { join } from "node:path";
import { startBridge, type RunningBridge } from "../bridge/ws-tcp-bridge";
import { findPostgresBinaries, type PostgresBinaries } from "../postgres/binaries";
import { routingLayout } from "../../src/core/canary";
import { pgbouncerRoutingBase } from "../canary/runtime";
import { rolloutState } from "../canary/state";
import { isPortFree } from "../net/ports";
import { giveToPostgres, livePostmasterPid } from "../postgres/cluster";
import { stopPostmaster } from "../postgres/control";
import { findPgbouncer, startPgbouncer, type RunningPgbouncer } from "../pgbouncer/process";
import { RW_ENTRY, routedPgbouncerConfig } from "../pgbouncer/routing";
import { spawnChild, type ManagedChild } from "./children";
import { startCron, type CronTrigger } from "./cron";
import { devLayout, type DevLayout } from "./layout";
import { flagFor, DEV_DEFAULTS, type DevOptions } from "./options";
import type { DevOutput } from "./output";
import { startDevHistoryDb, startDevTarget, TARGET_DATABASE } from "./postgres";
import { checkPortsFree, checkPostgresUserCanReach, type PortClaim } from "./preflight";
import { recoverAndClaim, type StateFile } from "./recovery";
import { firstKeyId, loadApiToken, loadRunnerKeys } from "./secrets";
import { tailFile, type Tail } from "./tail";
import { DEV_ROLLOUT_TIMINGS } from "./timings";
import { REPO_ROOT, startWrangler, writeWorkerEnv } from "./worker";
import type { RolloutTimingsInput } from "../../src/core/rollout/timings";
import type { DetectionWindows } from "../../src/decide/detection-windows";

export const DEV_HOST = "127.0.0.1";
/** The address the runner's local canary takes first (it listens on the target's port there). */
export const DEV_CANARY_HOST = "127.0.0.2";
/**
 * The target's postmaster may be away this long before the stack counts it as dead: a canary
 * switchover stops the old primary and restarts it as a standby of the promoted canary.
 */
export const TARGET_GONE_GRACE_MS = 60_000;
/** wrangler bundles and boots workerd; on a busy 2-core machine this takes a while. */
export const API_READY_TIMEOUT_MS = 90_000;
export const RUNNER_READY_TIMEOUT_MS = 30_000;
const WORKER_STOP_GRACE_MS = 10_000;
const RUNNER_STOP_GRACE_MS = 5_000;

export interface DevStackInfo {
  apiUrl: string;
  apiToken: string;
  apiTokenFrom: string;
  runnerUrl: string;
  targetUrl: string;
  databaseUrl: string;
  pgbouncerUrl?: string;
  /** The rollout timings the Worker got (ROLLOUT_TIMINGS). */
  rolloutTimings: RolloutTimingsInput;
  bridgeUrl: string;
  postgres: { bindir: string; major: number; source: string; dataDir: string; created: boolean; migrationsApplied: number };
  pids: Record<string, number>;
  layout: DevLayout;
}

export interface DevStack {
  info: DevStackInfo;
  /** Resolves with the name of a child that exited on its own (the stack is then broken). */
  failed: Promise<string>;
  stop(): Promise<void>;
}

export class DevStackError extends Error {
  override name = "DevStackError";
}

/** Raised when `abort` fires during start-up (Ctrl-C while waiting); everything started is stopped. */
export class DevStackAborted extends Error {
  override name = "DevStackAborted";
}

export async function startDevStack(options: DevOptions, output: DevOutput, abort?: AbortSignal, extra: { rolloutTimings?: RolloutTimingsInput; detectionWindows?: DetectionWindows } = {}): Promise<DevStack> {
  const say = (msg: string) => output.line("dev", msg);
  const layout = devLayout(options.dir);
  mkdirSync(layout.root, { recursive: true, mode: 0o755 });
  const cleanup: Array<{ name: string; stop: () => Promise<void> }> = [];
  let state: StateFile | undefined;
  let tail: Tail | undefined;
  let cron: CronTrigger | undefined;
  const watched: ManagedChild[] = [];

  const stopAll = async () => {
    cron?.stop();
    for (const step of cleanup.reverse()) {
      try {
        await step.stop();
      } catch (err) {
        output.line("dev", `stopping ${step.name} failed: ${(err as Error).message}`, "stderr");
      }
    }
    cleanup.length = 0;
    tail?.stop();
    state?.remove();
  };

  const checkAbort = () => {
    if (abort?.aborted) throw new DevStackAborted("stopped during start-up");
  };
  try {
    state = await recoverAndClaim(layout.stateFile, [layout.pgData, layout.historyData, ...canaryDataDirs(layout.canaries)], say);
    const bins: PostgresBinaries = findPostgresBinaries();
    checkPostgresUserCanReach(layout.root, "the state dir", "use --dir / PG2UNE_DEV_DIR on a path it can reach, e.g. /var/tmp/pg2une");
    checkPostgresUserCanReach(bins.path("postgres"), "the PostgreSQL binary", "set PG_BIN to a PostgreSQL bin directory it can reach");
    const pgbouncerBinary = options.pgbouncer ? findPgbouncer() : undefined;
    if (options.pgbouncer && !pgbouncerBinary) say("PgBouncer is not installed; starting without it (Debian: apt-get install pgbouncer)");

    const claims: PortClaim[] = [
      { port: options.apiPort, what: `the API (${flagFor("apiPort")})` },
      { port: options.runnerPort, what: `the runner (${flagFor("runnerPort")})` },
      { port: options.pgPort, what: `PostgreSQL (${flagFor("pgPort")})` },
      { port: options.bridgePort, what: `the WebSocket bridge (${flagFor("bridgePort")})` },
      { port: options.dbPort, what: `pg2une's history database (${flagFor("dbPort")})` },
    ];
    if (pgbouncerBinary) claims.push({ port: options.pgbouncerPort, what: `PgBouncer (${flagFor("pgbouncerPort")})` });
    await checkPortsFree(DEV_HOST, claims);
    // A canary run launches a standby on the target's port at the next loopback address.
    if (!(await isPortFree(options.pgPort, DEV_CANARY_HOST)) && !canaryStillOurs(layout.canaries)) {
      say(`note: ${DEV_CANARY_HOST}:${options.pgPort} is in use, so a local canary will take another 127.0.0.x address (canary mode needs one free on port ${options.pgPort})`);
    }

    const apiToken = loadApiToken(layout.apiToken);
    const runnerKeys = loadRunnerKeys(layout.runnerKeys);

    // PostgreSQL: pg2une's own history database, then the target.
    say(`PostgreSQL ${bins.major} from ${bins.source} (${bins.bindir}); target data in ${layout.pgData}, pg2une's history in ${layout.historyData}`);
    tail = tailFile(layout.pgLog, (line) => output.line("postgres", line));
    const history = await startDevHistoryDb({ dataDir: layout.historyData, logFile: layout.historyLog, port: options.dbPort, host: DEV_HOST, bins });
    cleanup.push({ name: "pg2une-db", stop: () => history.server.stop("fast") });
    state.addChild("pg2une-db", history.server.pid);
    say(`pg2une's history database ${history.created ? "initialized and " : ""}started (pid ${history.server.pid}); migrations: ${history.migrations.applied} applied now, ${history.migrations.total} in total`);
    const promoted = promotedPrimary(layout.runnerState, { host: DEV_HOST, port: options.pgPort });
    if (promoted) {
      throw new DevStackError(
        `a canary switchover made ${promoted.host}:${promoted.port} the target's primary (runner state ${join(layout.runnerState, "rollout.json")}); ` +
          `pg2une dev cannot bring that layout back up yet. Delete ${layout.root} to start afresh (the tuned settings are in the promoted node's postgresql.auto.conf).`,
      );
    }
    const target = await startDevTarget({ dataDir: layout.pgData, logFile: layout.pgLog, port: options.pgPort, host: DEV_HOST, bins });
    const pg = { server: target.server, created: target.created, targetUrl: target.server.url(TARGET_DATABASE), databaseUrl: history.databaseUrl };
    cleanup.push({
      name: "postgres",
      // After a switchover the postmaster on the data dir is the runner's (the old primary, now a standby).
      stop: async () => {
        await pg.server.stop("fast");
        await stopPostmaster(layout.pgData, "fast");
      },
    });
    state.addChild("postgres", pg.server.pid);
    say(`PostgreSQL (the target) ${pg.created ? "initialized and " : ""}started (pid ${pg.server.pid})`);

    checkAbort();
    // The bridge lets the Worker's Neon driver reach it.
    let bridge: RunningBridge;
    try {
      bridge = await startBridge({ host: DEV_HOST, port: options.bridgePort });
    } catch (err) {
      throw new DevStackError(`the WebSocket bridge could not listen on ${DEV_HOST}:${options.bridgePort}: ${(err as Error).message}`);
    }
    cleanup.push({ name: "bridge", stop: () => bridge.close() });

    checkAbort();
    // The runner.
    mkdirSync(layout.runnerState, { recursive: true, mode: 0o700 });
    mkdirSync(layout.canaries, { recursive: true, mode: 0o755 });
    const runner = spawnChild({
      name: "runner",
      command: process.execPath,
      args: [join(REPO_ROOT, "runner", "bin", "pg2une.js"), "runner", "--host", DEV_HOST, "--port", String(options.runnerPort), "--state-dir", layout.runnerState],
      env: {
        ...process.env,
        TARGET_POSTGRES_URL: pg.targetUrl,
        PG2UNE_RUNNER_KEYS: runnerKeys.value,
        // The runner owns pgbouncer.ini (canary routing rewrites it); unset = no routing.
        PG2UNE_PGBOUNCER_DIR: pgbouncerBinary ? layout.pgbouncerDir : "",
        PG2UNE_PGBOUNCER_LISTEN: pgbouncerBinary ? `${DEV_HOST}:${options.pgbouncerPort}` : "",
        PG2UNE_CANARY_BACKEND: "local",
        PG2UNE_CANARY_DIR: layout.canaries,
      },
      output,
    });
    cleanup.push({ name: "runner", stop: () => runner.stop("SIGTERM", RUNNER_STOP_GRACE_MS) });
    // Canaries are the runner's postmasters (in its process group); stopped first, cleanly.
    cleanup.push({ name: "canaries", stop: () => stopCanaries(layout.canaries, say) });
    state.addChild("runner", runner.pid);
    watched.push(runner);
    const runnerUrl = `http://${DEV_HOST}:${options.runnerPort}`;
    await waitForHttp(`${runnerUrl}/healthz`, RUNNER_READY_TIMEOUT_MS, runner, "the runner", checkAbort);

    checkAbort();
    // PgBouncer, when installed. Its ini belongs to the runner: the first one is rendered by the
    // runner's own function (all reads on the primary), so canary routing only ever rewrites it.
    let pgbouncer: RunningPgbouncer | undefined;
    if (pgbouncerBinary) {
      mkdirSync(layout.pgbouncerDir, { recursive: true, mode: 0o750 });
      giveToPostgres(layout.pgbouncerDir);
      const base = pgbouncerRoutingBase({ pgbouncerDir: layout.pgbouncerDir, pgbouncerListen: `${DEV_HOST}:${options.pgbouncerPort}` })!;
      pgbouncer = await startPgbouncer({
        binary: pgbouncerBinary,
        detached: true,
        config: routedPgbouncerConfig(base, routingLayout({ serverDatabase: TARGET_DATABASE, primary: { host: DEV_HOST, port: options.pgPort }, canaryPct: 0 })),
        onLine: (line) => output.line("pgbouncer", line),
      });
      const running = pgbouncer;
      cleanup.push({ name: "pgbouncer", stop: () => running.stop() });
      state.addChild("pgbouncer", pgbouncer.pid);
    }

    checkAbort();
    // The Worker, with rollout timings for a local machine (src/core/rollout/timings.ts has the production ones).
    const rolloutTimings = extra.rolloutTimings ?? DEV_ROLLOUT_TIMINGS;
    const apiUrl = `http://${DEV_HOST}:${options.apiPort}`;
    writeWorkerEnv(layout.workerEnv, {
      DATABASE_URL: pg.databaseUrl,
      NEON_WS_PROXY: bridge.proxy,
      PG2UNE_API_TOKEN: apiToken.value,
      PG2UNE_RUNNER_KEYS: runnerKeys.value,
      RUNNER_URL: runnerUrl,
      RUNNER_KEY_ID: firstKeyId(runnerKeys.value),
      TOTAL_RAM_MB: String(Math.floor(totalmem() / (1024 * 1024))),
      ROLLOUT_TIMINGS: JSON.stringify(rolloutTimings),
      ...(extra.detectionWindows ? { DETECTION_WINDOWS: JSON.stringify(extra.detectionWindows) } : {}),
    });
    mkdirSync(layout.wranglerState, { recursive: true });
    const wrangler = startWrangler({ host: DEV_HOST, port: options.apiPort, envFile: layout.workerEnv, persistTo: layout.wranglerState, logDir: layout.wranglerLogs, output });
    cleanup.push({ name: "wrangler", stop: () => wrangler.stop("SIGTERM", WORKER_STOP_GRACE_MS) });
    state.addChild("wrangler", wrangler.pid);
    watched.push(wrangler);
    await waitForHttp(`${apiUrl}/`, API_READY_TIMEOUT_MS, wrangler, "the Worker (wrangler dev)", checkAbort);

    checkAbort();
    if (options.cronIntervalS > 0) {
      cron = startCron({
        apiUrl,
        intervalMs: options.cronIntervalS * 1000,
        firstDelayMs: DEV_DEFAULTS.firstCronDelayS * 1000,
        report: (message, ok) => output.line("cron", message, ok ? "stdout" : "stderr"),
      });
    }

    const failed = Promise.race([
      ...watched.map((c) => c.exit.then(() => c.name)),
      ...(pgbouncer ? [waitUntilGone(() => !pgbouncer.running).then(() => "pgbouncer")] : []),
      waitUntilGone(() => !history.server.running).then(() => "pg2une-db"),
      waitUntilGoneFor(() => !pg.server.running && livePostmasterPid(layout.pgData) === undefined, TARGET_GONE_GRACE_MS).then(() => "postgres"),
    ]);

    const pids: Record<string, number> = { "pg2une dev": process.pid, postgres: pg.server.pid, "pg2une-db": history.server.pid, runner: runner.pid, wrangler: wrangler.pid };
    if (pgbouncer) pids.pgbouncer = pgbouncer.pid;
    return {
      info: {
        apiUrl,
        apiToken: apiToken.value,
        apiTokenFrom: apiToken.from === "env" ? "PG2UNE_API_TOKEN" : layout.apiToken,
        runnerUrl,
        targetUrl: pg.targetUrl,
        databaseUrl: pg.databaseUrl,
        ...(pgbouncer ? { pgbouncerUrl: pgbouncer.url(RW_ENTRY) } : {}),
        rolloutTimings,
        bridgeUrl: `ws://${bridge.proxy}`,
        postgres: { bindir: bins.bindir, major: bins.major, source: bins.source, dataDir: layout.pgData, created: pg.created, migrationsApplied: history.migrations.applied },
        pids,
        layout,
      },
      failed,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Poll `url` until it answers 2xx; fail early with a clear message if `child` exits first. */
async function waitForHttp(url: string, timeoutMs: number, child: ManagedChild, what: string, checkAbort: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    checkAbort();
    if (child.exited) throw new DevStackError(`${what} exited with ${await child.exit} before answering ${url} (its output is above)`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new DevStackError(`${what} did not answer ${url} within ${Math.round(timeoutMs / 1000)} s (its output is above)`);
}

function waitUntilGone(gone: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (gone()) {
        clearInterval(timer);
        resolve();
      }
    }, 500);
    timer.unref();
  });
}

/** Like waitUntilGone, but `gone` must hold for `graceMs` on end (a switchover restarts the target). */
function waitUntilGoneFor(gone: () => boolean, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    let since: number | undefined;
    const timer = setInterval(() => {
      if (!gone()) {
        since = undefined;
        return;
      }
      since ??= Date.now();
      if (Date.now() - since >= graceMs) {
        clearInterval(timer);
        resolve();
      }
    }, 500);
    timer.unref();
  });
}

/** Data dirs of the runner's local canaries (runner/canary/local-backend: <canaryDir>/<id>/data). */
function canaryDataDirs(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((d) => join(root, d, "data"))
    .filter((d) => existsSync(join(d, "PG_VERSION")));
}

function canaryStillOurs(canaries: string): boolean {
  return canaryDataDirs(canaries).some((d) => livePostmasterPid(d) !== undefined);
}

/** Fast shutdown of every canary postmaster the runner left running (a run stopped half-way). */
async function stopCanaries(canaries: string, say: (msg: string) => void): Promise<void> {
  for (const dataDir of canaryDataDirs(canaries)) {
    const pid = await stopPostmaster(dataDir, "fast");
    if (pid !== undefined) say(`stopped the canary PostgreSQL (pid ${pid}, ${dataDir})`);
  }
}

/** The primary a canary switchover promoted, when it is not the dev stack's own target. */
function promotedPrimary(runnerState: string, own: { host: string; port: number }): { host: string; port: number } | undefined {
  const primary = rolloutState(runnerState).read()?.primary;
  return primary && (primary.host !== own.host || primary.port !== own.port) ? primary : undefined;
}
