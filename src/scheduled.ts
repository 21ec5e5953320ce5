/**
 * One cron tick: for every enabled target, note the tick in its Durable Object and get a fresh
 * metrics sample (ask its runner to `collect`, unless an in-VM agent pushed one within the poll
 * interval); then retention pruning. Later stages (detect → decide) hang off this loop. Targets
 * are handled side by side; a failure on one is reported and never stops the others.
 */
import { parseWorkerConfig } from "./config";
import { pollRunner, type PollOutcome } from "./metrics/poll-runner";
import { KeyRingError, parseKeyRing, type KeyRing } from "./protocol";
import { rolloutStub } from "./rollout/stub";
import { openDb } from "./store/db";
import { pruneExpiredNonces } from "./store/nonces";
import { pruneOlderThan, type PruneReport } from "./store/samples";
import { listTargets, type Target } from "./store/targets";

/** Targets polled at once: a Worker invocation has 6 simultaneous outbound connections. */
export const MAX_TARGETS_IN_PARALLEL = 4;

export interface TargetTick {
  name: string;
  /** Everything below went fine for this target. */
  ok: boolean;
  /** The Durable Object noted the tick. */
  tick: "ok" | { error: string };
  /** How the tick's metrics sample came about (or why it did not). */
  collect: PollOutcome;
}

export interface TickReport {
  at: number;
  targets: TargetTick[];
  /** Retention pruning (RETENTION_DAYS, default 14) of samples and snapshots. */
  prune: PruneReport | { error: string };
  /** Expired /api/ingest nonces deleted. */
  nonces: { removed: number } | { error: string };
}

export async function runScheduledTick(env: Env, scheduledTime: number): Promise<TickReport> {
  const config = parseWorkerConfig(env);
  const { db, close } = openDb(config);
  const report: TickReport = { at: scheduledTime, targets: [], prune: { error: "not run" }, nonces: { error: "not run" } };
  try {
    let keys: KeyRing | KeyRingError;
    try {
      keys = parseKeyRing(config.PG2UNE_RUNNER_KEYS);
    } catch (err) {
      keys = err instanceof KeyRingError ? err : new KeyRingError(String(err));
    }
    const targets = (await listTargets(db, config)).filter((t) => t.enabled);
    report.targets = await mapLimited(targets, MAX_TARGETS_IN_PARALLEL, async (target: Target): Promise<TargetTick> => {
      let tick: TargetTick["tick"] = "ok";
      try {
        await rolloutStub(env, target.name).recordTick(scheduledTime);
      } catch (err) {
        tick = { error: String(err) };
      }
      let collect: PollOutcome;
      try {
        collect =
          keys instanceof KeyRingError
            ? { status: "failed", reason: "no_key", error: keys.message }
            : await pollRunner({ db, keys, target, tickMs: scheduledTime, pollIntervalMs: config.POLL_INTERVAL_MS });
      } catch (err) {
        collect = { status: "failed", error: String(err) };
      }
      return { name: target.name, ok: tick === "ok" && collect.status !== "failed", tick, collect };
    });
    try {
      report.prune = await pruneOlderThan(db, config.RETENTION_DAYS, new Date(scheduledTime));
    } catch (err) {
      report.prune = { error: String(err) };
    }
    try {
      // Wall clock, not the tick's time: a nonce's expiry is real time.
      report.nonces = { removed: await pruneExpiredNonces(db, new Date()) };
    } catch (err) {
      report.nonces = { error: String(err) };
    }
  } finally {
    await close();
  }
  console.log(JSON.stringify({ event: "cron_tick", at: new Date(scheduledTime).toISOString(), targets: report.targets, prune: report.prune, nonces: report.nonces }));
  return report;
}

/** `fn` over `items`, at most `limit` at a time, results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
