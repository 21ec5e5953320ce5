/**
 * Measurement windows as the rollout keeps them: a window is a run of samples of one node (or
 * two, primary and canary, collected together), and each consecutive pair of samples gives one
 * sub-window (derive(previous, current)). The spread over sub-windows is what the confidence
 * intervals are made of. Only what the gates and the summary read is kept, so a window stays
 * small in Durable Object storage.
 */
import { buildMixture, derive, mixtureQuantile, type MetricsItem, type RawSample, type Snapshot } from "../metrics";

/** A query's window in one sub-window (entries that restarted inside the window are left out). */
export interface QueryStat {
  queryid: string;
  calls: number;
  meanMs: number;
  stddevMs: number | null;
}

export interface SubWindow {
  /** End of the sub-window (the later sample's time). */
  at: string;
  seconds: number | null;
  tps: number | null;
  qps: number | null;
  /** Per-transaction p99 (ms), as system_snapshots.latency_p99. */
  latencyP99: number | null;
  /** Per-statement p99 (ms) of the calls-weighted mixture. */
  statementP99: number | null;
  queries: QueryStat[];
}

export type Metric = "tps" | "qps" | "latencyP99" | "statementP99";
export type ThroughputMetric = Extract<Metric, "tps" | "qps">;

/** Statements per window kept for the canary comparison (heaviest by calls first). */
export const MAX_QUERIES_PER_SUBWINDOW = 200;

export function subWindowOf(snapshot: Snapshot): SubWindow {
  const queries: QueryStat[] = [];
  for (const q of snapshot.queries) {
    if (q.reset || !(q.calls > 0) || q.mean_exec_time_ms === null) continue;
    queries.push({ queryid: q.queryid, calls: q.calls, meanMs: q.mean_exec_time_ms, stddevMs: q.stddev_exec_time_ms });
  }
  queries.sort((a, b) => b.calls - a.calls || (a.queryid < b.queryid ? -1 : 1));
  return {
    at: snapshot.snapshot_time,
    seconds: snapshot.window_seconds,
    tps: snapshot.tps,
    qps: snapshot.qps,
    latencyP99: snapshot.latency_p99,
    statementP99: snapshot.statement_latency_p99,
    queries: queries.slice(0, MAX_QUERIES_PER_SUBWINDOW),
  };
}

/** A stored snapshot (GET /api/metrics/history item) as a sub-window without per-query rows. */
export function subWindowOfItem(item: MetricsItem): SubWindow {
  return {
    at: item.snapshot_time,
    seconds: item.window_seconds,
    tps: item.tps,
    qps: item.qps,
    latencyP99: item.latency_p99,
    statementP99: item.statement_latency_p99,
    queries: [],
  };
}

/** The sub-window between two samples of the same node, or null when derive gives no rates. */
export function subWindowBetween(previous: RawSample, current: RawSample): SubWindow | null {
  const snapshot = derive(previous, current);
  if (snapshot.window_issue !== null || snapshot.tps === null) return null;
  return subWindowOf(snapshot);
}

/** Non-null values of one metric over the sub-windows. */
export function valuesOf(windows: readonly SubWindow[], metric: Metric): number[] {
  const out: number[] = [];
  for (const w of windows) {
    const v = w[metric];
    if (v !== null && Number.isFinite(v)) out.push(v);
  }
  return out;
}

/**
 * Primary and canary measured over the same sub-window, seen as one system: transactions add up,
 * and the statement p99 is the p99 of both nodes' statements together (the calls-weighted mixture
 * of every query window of both). A transaction-level p99 across two servers cannot be formed
 * from their separate estimates, so split-traffic windows gate on the statement p99.
 */
export function combinedSubWindow(primary: SubWindow, canary: SubWindow): SubWindow {
  const statements = [...primary.queries, ...canary.queries].map((q) => ({ calls: q.calls, meanMs: q.meanMs, stddevMs: q.stddevMs ?? 0 }));
  const mixture = buildMixture(statements);
  const tps = primary.tps !== null && canary.tps !== null ? primary.tps + canary.tps : null;
  const qps = primary.qps !== null && canary.qps !== null ? primary.qps + canary.qps : null;
  return {
    at: primary.at,
    seconds: primary.seconds,
    tps,
    qps,
    latencyP99: null,
    statementP99: mixture ? mixtureQuantile(mixture, 0.99) : null,
    queries: [],
  };
}

/**
 * pg2une's own statements on a node: the collector's (tagged "/* pg2une:collect *\/") and the
 * canary machinery's (PG2UNE_SQL_MARKER, "/* pg2une *\/": share measurement, the read-only
 * connect_query, health checks). They run on both nodes, so left in they would count as
 * "queries both nodes ran" and judge the canary by pg2une's own catalog reads.
 */
export const OWN_STATEMENT = /\/\*\s*pg2une\b/;

/**
 * A sample without query texts and without pg2une's own statements: the rollout never reads the
 * texts, and a full sample (500 statements with 2 000-character texts) would not fit a Durable
 * Object value.
 */
export function compactSample(sample: RawSample): RawSample {
  if (!sample.statements.available) return sample;
  const top = sample.statements.top.filter((s) => !(s.query && OWN_STATEMENT.test(s.query))).map((s) => ({ ...s, query: null }));
  return { ...sample, statements: { ...sample.statements, top } };
}
