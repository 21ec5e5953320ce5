/**
 * The cron's way in for metrics: ask a target's runner to `collect` and store the sample, unless
 * an in-VM agent already delivers samples for that target (`pg2une agent --push` → /api/ingest).
 * Both ways end in storeSample, so a target may switch between them at any time.
 *
 * @example
 *   const outcome = await pollRunner({ db, keys, target, tickMs: Date.now(), pollIntervalMs: 60_000 });
 *   outcome.status; // "stored" | "duplicate" | "skipped" | "failed"
 */
import { and, desc, eq, gt, lte } from "drizzle-orm";
import { MAX_CLOCK_SKEW_SECONDS, type KeyRing } from "../protocol";
import { createRunnerClient, RunnerRejectedError, type RetryPolicy } from "../runner-client";
import type { Db } from "../store/db";
import { storeSample } from "../store/samples";
import { rawSamples } from "../store/schema";
import type { Target } from "../store/targets";

/**
 * One retry after a second: a runner restarting mid-tick is bridged, a dead one costs the tick
 * little (the next tick, a minute later, is the real retry).
 */
export const CRON_COLLECT_RETRY: RetryPolicy = { maxAttempts: 2, baseDelayMs: 1_000, maxDelayMs: 1_000 };
/** Per attempt: above the collect command's own 20 s deadline on the runner. */
export const CRON_COLLECT_REQUEST_TIMEOUT_MS = 25_000;

export type PollOutcome =
  | {
      status: "stored";
      sample_id: string;
      /** Headline figures of the derived snapshot (null on a first sample or across a reset). */
      tps: number | null;
      qps: number | null;
      window_issue: string | null;
      reset_detected: boolean;
    }
  /** The runner answered a repeat of this tick's command from its journal, already stored. */
  | { status: "duplicate"; sample_id: string }
  /** An agent pushed a sample collected within the last poll interval: no need to ask the runner. */
  | { status: "skipped"; reason: "agent_pushed"; agent_sample_at: string }
  | { status: "failed"; error: string; reason?: string };

export interface PollRunnerOptions {
  db: Db;
  keys: KeyRing;
  target: Target;
  /** The tick's time (epoch ms): the command id and the agent-freshness window derive from it. */
  tickMs: number;
  pollIntervalMs: number;
  fetch?: typeof fetch;
}

export async function pollRunner(opts: PollRunnerOptions): Promise<PollOutcome> {
  const { db, target, tickMs } = opts;
  const pushed = await latestAgentSample(db, target.name, tickMs, opts.pollIntervalMs);
  if (pushed) return { status: "skipped", reason: "agent_pushed", agent_sample_at: pushed.toISOString() };

  const key = opts.keys.get(target.runnerKeyId);
  if (!key) {
    return {
      status: "failed",
      reason: "no_key",
      error: `target ${target.name}'s runner key "${target.runnerKeyId}" is not in PG2UNE_RUNNER_KEYS (known: ${[...opts.keys.keys()].join(", ") || "none"})`,
    };
  }
  const runner = createRunnerClient({
    url: target.runnerUrl,
    key,
    retry: CRON_COLLECT_RETRY,
    requestTimeoutMs: CRON_COLLECT_REQUEST_TIMEOUT_MS,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  let sample;
  try {
    // One command id per target and tick: a retry is answered from the runner's journal with the same sample.
    ({ result: sample } = await runner.send("collect", { target: target.name }, { commandId: `collect:${target.name}:${tickMs}` }));
  } catch (err) {
    return { status: "failed", error: (err as Error).message, ...(err instanceof RunnerRejectedError ? { reason: err.reason } : {}) };
  }
  try {
    const stored = await storeSample(db, target.name, sample, "runner");
    if (stored.status === "duplicate") return { status: "duplicate", sample_id: stored.sampleId };
    const s = stored.snapshot;
    return { status: "stored", sample_id: stored.sampleId, tps: s.tps, qps: s.qps, window_issue: s.window_issue, reset_detected: s.reset_detected };
  } catch (err) {
    return { status: "failed", reason: "store_failed", error: `collected ${sample.sample_id} but storing it failed: ${(err as Error).message}` };
  }
}

/**
 * collected_at of the newest agent sample taken within the poll interval before the tick (or a
 * little after it: the target's clock may run ahead of the Worker's), else undefined.
 */
async function latestAgentSample(db: Db, target: string, tickMs: number, pollIntervalMs: number): Promise<Date | undefined> {
  const [row] = await db
    .select({ collectedAt: rawSamples.collectedAt })
    .from(rawSamples)
    .where(
      and(
        eq(rawSamples.target, target),
        eq(rawSamples.source, "agent"),
        gt(rawSamples.collectedAt, new Date(tickMs - pollIntervalMs)),
        lte(rawSamples.collectedAt, new Date(tickMs + MAX_CLOCK_SKEW_SECONDS * 1000)),
      ),
    )
    .orderBy(desc(rawSamples.collectedAt))
    .limit(1);
  return row?.collectedAt;
}
