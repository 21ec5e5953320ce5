/**
 * Workload class (OLTP / OLAP / Mixed) from observed behaviour, not from labels.
 *
 * Each snapshot pools the last `featureWindow` snapshots and their per-query windows into
 * features; each feature votes −1 (OLTP-like), 0, or +1 (OLAP-like) with a weight; the score is
 * the weighted mean vote over the features that are available, in [−1, 1]:
 *
 *   long_time_share   share of execution time in statements ≥ 100 ms   (w 2: ≥ 0.5 OLAP, ≤ 0.2 OLTP)
 *   mean_statement_ms Σ exec time / Σ calls                            (w 1: ≥ 50 OLAP, ≤ 5 OLTP)
 *   blocks_per_call   shared blocks hit+read per call                   (w 1: ≥ 1000 OLAP, ≤ 100 OLTP)
 *   rows_per_call     rows returned per call                            (w ½: ≥ 10 000 OLAP; few rows prove
 *                     nothing, since an aggregate over a million rows returns one)
 *   temp_bytes_per_sec spill to temp files                              (w 1: ≥ 1 MiB/s OLAP)
 *   tps               transaction rate                                  (w ½: ≥ 50/s OLTP)
 *
 * Score ≥ 0.35 enters OLAP, ≤ −0.35 enters OLTP, otherwise Mixed. Hysteresis keeps the class from
 * flapping between neighbouring windows: a class is left only when the score falls back past the
 * exit threshold (0.15), and a new class must be seen in `confirmWindows` consecutive snapshots.
 * A confirmed change is a workload shift: `workload_shift()` holds for `shiftFreshness` snapshots
 * and the CUSUM baselines are re-learned from that point.
 */
import { type QueryWindow, type SystemSnapshot, timeParser } from "./history";

export type WorkloadClass = "oltp" | "olap" | "mixed";

export interface Evidence {
  weight: number;
  /** Values at or above this vote OLAP. */
  olapAtLeast?: number;
  /** Values at or below this vote OLTP. */
  oltpAtMost?: number;
  /** Values at or above this vote OLTP (a rate). */
  oltpAtLeast?: number;
}

export interface WorkloadClassConfig {
  featureWindow: number;
  longStatementMs: number;
  enterThreshold: number;
  exitThreshold: number;
  confirmWindows: number;
  shiftFreshness: number;
  evidence: Record<keyof WorkloadFeatures, Evidence>;
}

export interface WorkloadFeatures {
  long_time_share: number | null;
  mean_statement_ms: number | null;
  blocks_per_call: number | null;
  rows_per_call: number | null;
  temp_bytes_per_sec: number | null;
  tps: number | null;
}

export interface WorkloadShift {
  from: WorkloadClass;
  to: WorkloadClass;
  index: number;
  snapshot_time: string;
}

export interface WorkloadAnalysis {
  class: WorkloadClass | null;
  score: number | null;
  features: WorkloadFeatures | null;
  /** Every confirmed class change in the history, oldest first. */
  shifts: WorkloadShift[];
  /** The newest shift happened within `shiftFreshness` snapshots of the newest one. */
  shift_active: boolean;
}

function average(values: Array<number | null | undefined>): number | null {
  const present = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  return present.length ? present.reduce((s, v) => s + v, 0) / present.length : null;
}

/** Features of the snapshots history[from..to] and their query windows. */
export function workloadFeatures(
  snapshots: readonly SystemSnapshot[],
  queriesAt: ReadonlyMap<number, readonly QueryWindow[]>,
  longStatementMs: number,
): WorkloadFeatures {
  let calls = 0;
  let totalTime = 0;
  let longTime = 0;
  let blocks = 0;
  let blockCalls = 0;
  let rows = 0;
  let rowCalls = 0;
  for (const s of snapshots) {
    for (const q of queriesAt.get(Date.parse(s.snapshot_time)) ?? []) {
      if (!(q.calls > 0)) continue;
      const time = q.total_exec_time_ms ?? (typeof q.mean_exec_time_ms === "number" ? q.mean_exec_time_ms * q.calls : null);
      if (time === null) continue;
      calls += q.calls;
      totalTime += time;
      if (time / q.calls >= longStatementMs) longTime += time;
      if (typeof q.shared_blks_hit === "number" || typeof q.shared_blks_read === "number") {
        blocks += (q.shared_blks_hit ?? 0) + (q.shared_blks_read ?? 0);
        blockCalls += q.calls;
      }
      if (typeof q.rows_per_call === "number") {
        rows += q.rows_per_call * q.calls;
        rowCalls += q.calls;
      }
    }
  }
  return {
    long_time_share: totalTime > 0 ? longTime / totalTime : null,
    mean_statement_ms: calls > 0 ? totalTime / calls : average(snapshots.map((s) => s.latency_mean)),
    blocks_per_call: blockCalls > 0 ? blocks / blockCalls : null,
    rows_per_call: rowCalls > 0 ? rows / rowCalls : null,
    temp_bytes_per_sec: average(snapshots.map((s) => s.temp_bytes_per_sec)),
    tps: average(snapshots.map((s) => s.tps)),
  };
}

function vote(value: number, e: Evidence): number {
  if (e.olapAtLeast !== undefined && value >= e.olapAtLeast) return 1;
  if (e.oltpAtMost !== undefined && value <= e.oltpAtMost) return -1;
  if (e.oltpAtLeast !== undefined && value >= e.oltpAtLeast) return -1;
  return 0;
}

/** Weighted mean vote in [−1, 1], or null when no feature is available. */
export function workloadScore(features: WorkloadFeatures, evidence: WorkloadClassConfig["evidence"]): number | null {
  let weighted = 0;
  let weights = 0;
  for (const key of Object.keys(evidence) as Array<keyof WorkloadFeatures>) {
    const value = features[key];
    if (value === null) continue;
    weighted += evidence[key].weight * vote(value, evidence[key]);
    weights += evidence[key].weight;
  }
  return weights > 0 ? weighted / weights : null;
}

/** The class a score points to, given the class we are in (the hysteresis band). */
export function classFor(score: number, current: WorkloadClass | null, config: Pick<WorkloadClassConfig, "enterThreshold" | "exitThreshold">): WorkloadClass {
  if (current === "olap" && score >= config.exitThreshold) return "olap";
  if (current === "oltp" && score <= -config.exitThreshold) return "oltp";
  if (score >= config.enterThreshold) return "olap";
  if (score <= -config.enterThreshold) return "oltp";
  return "mixed";
}

export function classifyWorkload(
  history: readonly SystemSnapshot[],
  queries: readonly QueryWindow[],
  config: WorkloadClassConfig,
): WorkloadAnalysis {
  const timeOf = timeParser();
  const queriesAt = new Map<number, QueryWindow[]>();
  for (const q of queries) {
    const t = timeOf(q.snapshot_time);
    const list = queriesAt.get(t);
    if (list) list.push(q);
    else queriesAt.set(t, [q]);
  }
  let current: WorkloadClass | null = null;
  let candidate: WorkloadClass | null = null;
  let streak = 0;
  let score: number | null = null;
  let features: WorkloadFeatures | null = null;
  const shifts: WorkloadShift[] = [];

  for (let i = 0; i < history.length; i++) {
    const window = history.slice(Math.max(0, i - config.featureWindow + 1), i + 1);
    const f = workloadFeatures(window, queriesAt, config.longStatementMs);
    const s = workloadScore(f, config.evidence);
    if (s === null) continue;
    features = f;
    score = s;
    const raw = classFor(s, current, config);
    if (current === null) {
      current = raw;
      continue;
    }
    if (raw === current) {
      candidate = null;
      streak = 0;
      continue;
    }
    streak = raw === candidate ? streak + 1 : 1;
    candidate = raw;
    if (streak >= config.confirmWindows) {
      shifts.push({ from: current, to: raw, index: i, snapshot_time: history[i]!.snapshot_time });
      current = raw;
      candidate = null;
      streak = 0;
    }
  }
  const last = shifts.at(-1);
  return {
    class: current,
    score,
    features,
    shifts,
    shift_active: last !== undefined && history.length - 1 - last.index < config.shiftFreshness,
  };
}
