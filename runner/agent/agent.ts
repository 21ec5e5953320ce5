/**
 * The in-VM agent's loop: every interval, collect a raw sample from the local PostgreSQL and
 * deliver it (with any backlog, oldest first) to the Worker's /api/ingest. Built to outlive
 * trouble on either side:
 * - PostgreSQL unreachable or a collect fails: logged, and the next tick connects afresh;
 * - the Worker unreachable, 5xx, clock or key trouble: the same sample (same id) is sent again
 *   with a fresh signature, a few times within the tick, then again on later ticks; samples wait
 *   in a bounded buffer (the oldest is dropped, and logged, when it is full);
 * - a sample the Worker refuses for good (400, 413): logged and dropped, never resent.
 * Stopping (the signal, e.g. SIGTERM) ends the loop between steps and aborts a push in flight.
 * Every event is one JSON line on stderr.
 *
 * @example
 *   const summary = await runAgent({ target: "default", intervalMs: 60_000, pusher, connect, signal });
 */
import type pg from "pg";
import type { RawSample } from "../../src/core/metrics";
import { collectSample } from "../metrics/collect";
import { log as defaultLog } from "../server/log";
import { SampleBuffer } from "./buffer";
import type { IngestPusher, PushOutcome } from "./push";

/** Unsent samples kept at most: an hour of outage at the default 60 s interval. */
export const DEFAULT_BUFFER_SAMPLES = 60;
/** Attempts per sample within one tick before leaving it for the next tick. */
export const PUSH_ATTEMPTS_PER_TICK = 3;
/** Backoff between those attempts: 1 s, then 2 s. */
export const PUSH_RETRY_BASE_MS = 1_000;
/** With --count, how long to keep delivering the backlog after the last collect. */
export const DRAIN_TIMEOUT_MS = 30_000;

export interface AgentOptions {
  target: string;
  intervalMs: number;
  /** Stop after this many collects (and delivering them); default: run until the signal. */
  count?: number | undefined;
  bufferSamples?: number;
  topStatements?: number | undefined;
  pusher: IngestPusher;
  /** Opens a connection to the target (one per sample; the agent closes it). */
  connect: () => Promise<pg.Client>;
  /** Aborted to stop (SIGTERM/SIGINT). */
  signal: AbortSignal;
  pushAttempts?: number;
  retryBaseMs?: number;
  drainTimeoutMs?: number;
  log?: typeof defaultLog;
}

export interface AgentSummary {
  stoppedBy: "count" | "signal";
  collected: number;
  collectFailures: number;
  /** Delivered and stored now. */
  stored: number;
  /** Delivered, already stored before (a retry whose first answer was lost). */
  duplicates: number;
  /** Refused for good by the Worker and dropped. */
  rejected: number;
  /** Pushed out of a full buffer before delivery. */
  dropped: number;
  /** Still in the buffer at the end (lost with the process). */
  unsent: number;
}

export async function runAgent(opts: AgentOptions): Promise<AgentSummary> {
  const log = opts.log ?? defaultLog;
  const { signal } = opts;
  const buffer = new SampleBuffer<RawSample>(opts.bufferSamples ?? DEFAULT_BUFFER_SAMPLES);
  const attempts = opts.pushAttempts ?? PUSH_ATTEMPTS_PER_TICK;
  const retryBaseMs = opts.retryBaseMs ?? PUSH_RETRY_BASE_MS;
  const summary: AgentSummary = { stoppedBy: "count", collected: 0, collectFailures: 0, stored: 0, duplicates: 0, rejected: 0, dropped: 0, unsent: 0 };
  /**
   * A connection per sample, like the runner's: a session held open between samples would count
   * as one more connected client in session_time (connected_sessions_mean and the session-time
   * bound on client latency), and a fresh one needs no reconnect logic after a failure.
   */
  async function collectOnce(): Promise<RawSample | undefined> {
    let client: pg.Client | undefined;
    try {
      client = await opts.connect();
      return await collectSample(client, { target: opts.target, topStatements: opts.topStatements });
    } catch (err) {
      summary.collectFailures++;
      log("warn", "collect_failed", { target: opts.target, error: (err as Error).message });
      return undefined;
    } finally {
      await client?.end().catch(() => undefined);
    }
  }

  /** Delivers the backlog oldest first; stops at the first sample that cannot be delivered now. */
  async function flush(): Promise<void> {
    while (buffer.size > 0 && !signal.aborted) {
      const sample = buffer.peek()!;
      let outcome: PushOutcome | undefined;
      for (let attempt = 1; attempt <= attempts && !signal.aborted; attempt++) {
        outcome = await opts.pusher.push(sample, signal);
        if (outcome.kind !== "retry") break;
        if (signal.aborted) return;
        const last = attempt === attempts;
        log("warn", "push_failed", {
          sample_id: sample.sample_id,
          attempt,
          http_status: outcome.httpStatus,
          reason: outcome.reason,
          error: outcome.error,
          next: last ? "next tick" : `retry in ${retryBaseMs * 2 ** (attempt - 1)} ms`,
        });
        if (!last) await sleep(retryBaseMs * 2 ** (attempt - 1), signal);
      }
      if (!outcome || outcome.kind === "retry") {
        if (!signal.aborted) log("warn", "push_deferred", { sample_id: sample.sample_id, unsent: buffer.size });
        return;
      }
      buffer.shift();
      if (outcome.kind === "rejected") {
        summary.rejected++;
        log("error", "sample_rejected", { sample_id: sample.sample_id, http_status: outcome.httpStatus, reason: outcome.reason, error: outcome.error });
        continue;
      }
      if (outcome.status === "stored") summary.stored++;
      else summary.duplicates++;
      log("info", "sample_pushed", {
        sample_id: sample.sample_id,
        collected_at: sample.collected_at,
        status: outcome.status,
        tps: outcome.tps,
        unsent: buffer.size,
      });
    }
  }

  log("info", "agent_started", { target: opts.target, endpoint: opts.pusher.endpoint, interval_ms: opts.intervalMs, count: opts.count ?? null, buffer: buffer.capacity });
  let nextAt = Date.now();
  for (let i = 0; opts.count === undefined || i < opts.count; i++) {
    await sleep(nextAt - Date.now(), signal);
    if (signal.aborted) break;
    // Fixed rate; a tick that overran skips the slots it missed rather than collecting twice at once.
    nextAt += opts.intervalMs;
    while (nextAt <= Date.now()) nextAt += opts.intervalMs;
    const sample = await collectOnce();
    if (sample) {
      summary.collected++;
      const dropped = buffer.add(sample);
      if (dropped) {
        summary.dropped++;
        log("warn", "sample_dropped", { sample_id: dropped.sample_id, collected_at: dropped.collected_at, why: `buffer full (${buffer.capacity} unsent samples)` });
      }
    }
    await flush();
  }
  if (!signal.aborted && buffer.size > 0) {
    const deadline = Date.now() + (opts.drainTimeoutMs ?? DRAIN_TIMEOUT_MS);
    while (buffer.size > 0 && !signal.aborted && Date.now() < deadline) {
      await sleep(Math.min(retryBaseMs * 2, deadline - Date.now()), signal);
      await flush();
    }
  }
  summary.stoppedBy = signal.aborted ? "signal" : "count";
  summary.unsent = buffer.size;
  log(summary.unsent > 0 || summary.rejected > 0 ? "warn" : "info", "agent_stopped", { ...summary });
  return summary;
}

/** Resolves after `ms`, or at once when `signal` is aborted. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
