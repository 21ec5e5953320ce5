/**
 * One cron tick: for every enabled target, note the tick in its Durable Object, get a fresh
 * metrics sample (ask its runner to `collect`, unless an in-VM agent pushed one within the poll
 * interval), then decide (src/loop/decide-target.ts: detection + the object's state → rules →
 * should_act → the object's start(), which may refuse); then retention pruning. Targets are
 * handled side by side; a failure on one is reported and never stops the others.
 *
 * Each tick logs one line, {"event": "cron_tick", targets: [{name, collect, decision}, …]}, and
 * each target's decision is kept by its object (GET /api/status → last_decision).
 */
import { parseWorkerConfig } from "./config";
import { detectConfigOf } from "./decide/detection-windows";
import { decisionProgram } from "./decide/rules";
import type { Program } from "./core/datalog";
import { decisionWithoutAnalysis, type TickDecision } from "./decide/tick-decision";
import { decideForTarget } from "./loop/decide-target";
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
  /** What the decision loop did: started a run, was refused, held, nothing, or why it skipped. */
  decision: TickDecision;
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
    const detectConfig = detectConfigOf(config.DETECTION_WINDOWS);
    let program: Program | Error;
    try {
      program = decisionProgram();
    } catch (err) {
      program = err instanceof Error ? err : new Error(String(err));
    }
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
      const decision =
        program instanceof Error
          ? decisionWithoutAnalysis(scheduledTime, "failed", `the decision rules do not load: ${program.message}`)
          : await decideForTarget(env, db, target, { tickMs: scheduledTime, collect, program, detectConfig });
      try {
        await rolloutStub(env, target.name).recordDecision(decision);
      } catch (err) {
        console.error(JSON.stringify({ event: "decision_not_recorded", target: target.name, error: String(err) }));
      }
      return { name: target.name, ok: tick === "ok" && collect.status !== "failed" && decision.status !== "failed", tick, collect, decision };
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
  // The facts stay with the object's record (GET /api/status); the log line says what and why.
  const logged = report.targets.map((t) => ({ ...t, decision: { ...t.decision, facts: undefined } }));
  console.log(JSON.stringify({ event: "cron_tick", at: new Date(scheduledTime).toISOString(), targets: logged, prune: report.prune, nonces: report.nonces }));
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
