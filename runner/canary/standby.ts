/**
 * Facts about a hot standby read over SQL, the same for every backend: is it streaming, where
 * is its replay, promote it.
 */
import { sleep } from "../postgres/cluster";
import { query } from "./sql";

/** How long a freshly started standby may take to connect to its primary. */
export const STREAMING_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

export interface StandbyStatus {
  inRecovery: boolean;
  receiver: string | null;
  replayLsn: string | null;
}

export async function standbyStatus(url: string): Promise<StandbyStatus> {
  const [row] = await query<{ in_recovery: boolean; receiver: string | null; replay_lsn: string | null }>(
    url,
    `select pg_is_in_recovery() as in_recovery,
            (select status from pg_stat_wal_receiver) as receiver,
            pg_last_wal_replay_lsn()::text as replay_lsn`,
  );
  return { inRecovery: row!.in_recovery, receiver: row!.receiver, replayLsn: row!.replay_lsn };
}

/** Waits until the server at `url` is a hot standby streaming from its primary. */
export async function waitUntilStreaming(url: string, timeoutMs = STREAMING_TIMEOUT_MS): Promise<StandbyStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: StandbyStatus | undefined;
  let lastError: string | undefined;
  for (;;) {
    try {
      last = await standbyStatus(url);
      if (!last.inRecovery) throw new Error(`${new URL(url).host} is not a standby (pg_is_in_recovery() is false)`);
      if (last.receiver === "streaming") return last;
    } catch (err) {
      if (/is not a standby/.test((err as Error).message)) throw err;
      lastError = (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `standby at ${new URL(url).host} is not streaming after ${timeoutMs} ms (wal receiver: ${last?.receiver ?? "none"}${lastError ? `; last error: ${lastError}` : ""})`,
      );
    }
    await sleep(POLL_MS);
  }
}

/**
 * Waits until the standby's replay position is past `lsn` ("past": a record starting there, such
 * as the old primary's shutdown checkpoint, has been replayed) or at least at it ("reached": all
 * WAL up to a flush position).
 */
export async function waitForReplay(url: string, lsn: string, timeoutMs: number, how: "past" | "reached" = "past"): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const op = how === "past" ? ">" : ">=";
  for (;;) {
    const [row] = await query<{ replay: string | null; ok: boolean | null }>(
      url,
      `select pg_last_wal_replay_lsn()::text as replay, pg_wal_lsn_diff(pg_last_wal_replay_lsn(), $1::pg_lsn) ${op} 0 as ok`,
      [lsn],
    );
    if (row?.ok) return row.replay!;
    if (Date.now() > deadline) throw new Error(`standby replay is at ${row?.replay ?? "?"}, not ${how === "past" ? "past" : "at"} ${lsn}, after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** pg_promote and wait for it; returns once the node accepts writes. */
export async function promote(url: string, waitSeconds = 60): Promise<void> {
  const [row] = await query<{ promoted: boolean }>(url, "select pg_promote(true, $1) as promoted", [waitSeconds], { statementTimeoutMs: (waitSeconds + 5) * 1000 });
  if (!row?.promoted) throw new Error(`pg_promote did not finish within ${waitSeconds} s on ${new URL(url).host}`);
}
