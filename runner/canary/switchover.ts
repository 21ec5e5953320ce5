/**
 * Switchover (the 100 % step): the canary becomes the primary with no lost transaction.
 *
 *   PAUSE (timeout → RESUME, abort) → stop the old primary (fast: it writes a shutdown
 *   checkpoint and its walsenders ship all WAL first) → wait until the canary replayed past that
 *   checkpoint (pg_controldata "Latest checkpoint location") → pg_promote → point both pooler
 *   entries at the new primary → RELOAD → RESUME → the old primary rejoins as a standby of the
 *   new one (standby.signal + primary_conninfo; pg_rewind when its history diverged), and the
 *   stale primary_conninfo is removed from the promoted node.
 *
 * Before the promotion every failure is undone (old primary started again as it was, pooler
 * resumed, routing unchanged) and reported; after it there is no way back, so later problems
 * (the old primary not rejoining) are reported in the result instead.
 *
 * The old primary must be a server on this host (its data directory is read from the server
 * and must exist here); a primary in an mxc microVM needs an in-VM agent for this (not built).
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { routingLayout } from "../../src/core/canary";
import { giveToPostgres, livePostmasterPid, startPostgres, type RunningPostgres } from "../postgres/cluster";
import { controlData, runAsPostgres, stopPostmaster } from "../postgres/control";
import { NoCanaryError, type CanaryService } from "./service";
import { parsePostgresUrl, query } from "./sql";
import { promote, waitForReplay, waitUntilStreaming } from "./standby";
import { PauseTimeoutError, type TrafficControl } from "./traffic";

export const SWITCHOVER_DEFAULTS = {
  /** PAUSE waits for running transactions; longer than this and we give up (and RESUME). */
  pauseTimeoutMs: 5_000,
  /** Canary replay must reach the old primary's shutdown checkpoint within this. */
  replayTimeoutMs: 30_000,
  /** Before pausing, wait this long at most for the canary to catch up (keeps the pause short). */
  catchUpTimeoutMs: 30_000,
  promoteWaitSeconds: 60,
  /** The rejoined old primary must stream within this. */
  rejoinTimeoutMs: 30_000,
} as const;

export interface SwitchoverOptions {
  /** Client-facing PgBouncer entry names (default `rw` / `ro`). */
  entries?: { readWrite: string; readOnly: string } | undefined;
  /** "standby": the old primary follows the new one; "stop": it stays down. */
  oldPrimary?: "standby" | "stop";
  pauseTimeoutMs?: number;
  replayTimeoutMs?: number;
  catchUpTimeoutMs?: number;
  rejoinTimeoutMs?: number;
}

export interface SwitchoverResult {
  newPrimary: { host: string; port: number };
  /** Time clients were held: from PAUSE issued to RESUME done. */
  pauseMs: number;
  shutdownCheckpointLsn: string;
  replayedLsn: string;
  formerPrimary: { host: string; port: number; role: "standby" | "stopped"; rewound: boolean; error?: string };
  steps: Array<{ step: string; ms: number }>;
}

export class SwitchoverAbortedError extends Error {
  override name = "SwitchoverAbortedError";
  constructor(
    readonly step: string,
    override readonly cause: unknown,
    readonly pauseMs: number | undefined,
    readonly undone: string,
  ) {
    super(`switchover aborted at ${step}: ${(cause as Error)?.message ?? String(cause)}; ${undone}`);
  }
}

/** Old primaries this process restarted as standbys (so a later stop can reap them). */
const restarted = new Map<string, RunningPostgres>();

export async function switchover(service: CanaryService, traffic: TrafficControl, opts: SwitchoverOptions = {}): Promise<SwitchoverResult> {
  const o = { ...SWITCHOVER_DEFAULTS, oldPrimary: "standby" as const, ...opts };
  const canary = service.canary();
  if (!canary) throw new NoCanaryError("switchover");
  const canaryUrl = service.canaryUrl();
  const primaryUrl = service.primaryUrl();
  const oldPrimary = service.primary();
  const newPrimary = { host: canary.host, port: canary.port };
  const steps: SwitchoverResult["steps"] = [];
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const value = await fn();
    steps.push({ step, ms: Date.now() - t });
    return value;
  };

  // Preconditions, checked before anything is paused.
  const [{ data_directory: dataDir }] = (await query<{ data_directory: string }>(primaryUrl, "select current_setting('data_directory') as data_directory")) as [
    { data_directory: string },
  ];
  if (!existsSync(join(dataDir, "PG_VERSION")) || livePostmasterPid(dataDir) === undefined) {
    throw new Error(`the primary's data directory ${dataDir} is not on this host (or its postmaster is not ours to stop); switchover needs a local primary`);
  }
  await waitUntilStreaming(canaryUrl, 5_000);
  await timed("catch_up", () => catchUp(primaryUrl, canaryUrl, o.catchUpTimeoutMs));

  const serverDatabase = parsePostgresUrl(primaryUrl).database;
  const layoutFor = (primary: { host: string; port: number }) =>
    routingLayout({ serverDatabase, ...(o.entries ? { entries: o.entries } : {}), primary, canaryPct: 0 });
  const before = layoutFor(oldPrimary);
  const entries = [before.readWrite.name, before.readOnly.name];
  const pausedAt = Date.now();
  try {
    await timed("pause", () => traffic.pause(entries, o.pauseTimeoutMs));
  } catch (err) {
    const undone = err instanceof PauseTimeoutError ? "resumed; nothing changed" : "nothing changed";
    throw new SwitchoverAbortedError("pause", err, Date.now() - pausedAt, undone);
  }

  let lsn: string;
  let replayed: string;
  try {
    await timed("stop_old_primary", () => stopPostmaster(dataDir, "fast"));
    const control = controlData(dataDir);
    if (control["Database cluster state"] !== "shut down") {
      throw new Error(`old primary did not shut down cleanly (state: ${control["Database cluster state"]})`);
    }
    lsn = control["Latest checkpoint location"]!;
    replayed = await timed("wait_replay", () => waitForReplay(canaryUrl, lsn, o.replayTimeoutMs, "past"));
    await timed("promote", () => promote(canaryUrl, SWITCHOVER_DEFAULTS.promoteWaitSeconds));
  } catch (err) {
    // Not promoted: put the old primary back as it was, let clients through, report.
    let undone = "the old primary was restarted as primary and clients resumed";
    try {
      if (livePostmasterPid(dataDir) === undefined) await startServer(dataDir, oldPrimary);
    } catch (restartErr) {
      undone = `restarting the old primary FAILED (${(restartErr as Error).message}); clients resumed`;
    }
    await traffic.resume(entries).catch(() => undefined);
    throw new SwitchoverAbortedError(steps.length ? `after ${steps[steps.length - 1]!.step}` : "stop_old_primary", err, Date.now() - pausedAt, undone);
  }

  // Promoted: from here on the canary is the primary.
  await timed("repoint_reload", () => traffic.apply(layoutFor(newPrimary)));
  await timed("resume", () => traffic.resume(entries));
  const pauseMs = Date.now() - pausedAt;
  await service.update({ primary: newPrimary, routing: { canaryPct: 0, canarySlots: 0, at: new Date().toISOString() } });
  await service.clear("canary", "canaryLaunchedAt");

  // The promoted node still carries the primary_conninfo pg_basebackup -R wrote: remove it.
  await timed("clear_primary_conninfo", async () => {
    await query(canaryUrl, "alter system reset primary_conninfo");
    await query(canaryUrl, "select pg_reload_conf()");
  });

  const former: SwitchoverResult["formerPrimary"] = { ...oldPrimary, role: "stopped", rewound: false };
  if (o.oldPrimary === "standby") {
    try {
      const rejoin = await timed("rejoin_old_primary", () => rejoinAsStandby(dataDir, oldPrimary, newPrimary, primaryUrl, o.rejoinTimeoutMs));
      former.role = "standby";
      former.rewound = rejoin.rewound;
    } catch (err) {
      former.error = (err as Error).message;
    }
  }
  await service.update({ formerPrimary: { ...oldPrimary, dataDir, role: former.role } });
  return { newPrimary, pauseMs, shutdownCheckpointLsn: lsn, replayedLsn: replayed, formerPrimary: former, steps };
}

/** Waits until the canary replayed what the primary had flushed when we asked (short pause later). */
async function catchUp(primaryUrl: string, canaryUrl: string, timeoutMs: number): Promise<void> {
  const [row] = await query<{ lsn: string }>(primaryUrl, "select pg_current_wal_flush_lsn()::text as lsn");
  await waitForReplay(canaryUrl, row!.lsn, timeoutMs, "reached");
}

async function startServer(dataDir: string, at: { host: string; port: number }): Promise<RunningPostgres> {
  const server = await startPostgres({ dataDir, host: at.host, port: at.port });
  restarted.set(dataDir, server);
  return server;
}

/**
 * standby.signal + primary_conninfo pointing at the new primary, then start. A clean shutdown
 * whose checkpoint the new primary replayed can simply follow the new timeline; if it cannot
 * (it had WAL the new primary never saw), pg_rewind it against the new primary and try again.
 */
async function rejoinAsStandby(
  dataDir: string,
  self: { host: string; port: number },
  newPrimary: { host: string; port: number },
  templateUrl: string,
  timeoutMs: number,
): Promise<{ rewound: boolean }> {
  const user = parsePostgresUrl(templateUrl).user;
  const conninfo = `host=${newPrimary.host} port=${newPrimary.port} user=${user} application_name=pg2une_former_primary`;
  const selfUrl = `postgres://${encodeURIComponent(user)}@${self.host}:${self.port}/postgres`;
  const tryStart = async () => {
    writeStandbyConfig(dataDir, conninfo);
    await startServer(dataDir, self);
    await waitUntilStreaming(selfUrl, timeoutMs);
  };
  try {
    await tryStart();
    return { rewound: false };
  } catch (err) {
    await stopPostmaster(dataDir, "fast").catch(() => undefined);
    try {
      await runAsPostgres("pg_rewind", ["--target-pgdata", dataDir, "--source-server", conninfo]);
    } catch (rewindErr) {
      throw new Error(`old primary did not rejoin (${(err as Error).message}) and pg_rewind failed: ${(rewindErr as Error).message}`);
    }
    await tryStart();
    return { rewound: true };
  }
}

/** Replaces any primary_conninfo in postgresql.auto.conf and adds standby.signal (server stopped). */
function writeStandbyConfig(dataDir: string, conninfo: string): void {
  const auto = join(dataDir, "postgresql.auto.conf");
  const kept = existsSync(auto) ? readFileSync(auto, "utf8").split("\n").filter((l) => !/^\s*primary_conninfo\s*=/.test(l)) : [];
  writeFileSync(auto, `${kept.join("\n").replace(/\n*$/, "\n")}primary_conninfo = '${conninfo.replace(/'/g, "''")}'\n`);
  appendFileSync(join(dataDir, "standby.signal"), "");
  giveToPostgres(auto);
  giveToPostgres(join(dataDir, "standby.signal"));
}
