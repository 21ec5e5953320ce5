/**
 * The analysis grouped for people (GET /api/analysis): one section per question an operator asks.
 *
 *   metrics        current values, the CUSUM of each watched metric, which are degraded
 *   queries        regressions vs each query's 6 h baseline, same_load or changed_load, +%
 *   workload       class (oltp/olap/mixed) and whether it just shifted
 *   change_points  E-Divisive change points, and which of them confirm a degradation
 *   usl            the scalability model's fit and how far the newest point falls below it
 *   seasonal       what each metric should be now, with its band
 *   confidence     the seed's score, its components, and whether it is high
 *   decision       should_act, what is blocked and why, the derivation tree
 *
 * `facts` is the fact map the rules saw, in the shape `pg2une rules --facts` reads, so an operator
 * can replay any decision with an edited rules file. Numbers are rounded for reading; the facts
 * carry the values the rules compared.
 */
import { round, type FactMap } from "../detect/facts";
import type { DetectionReport } from "../detect/detect";
import type { MetricName, StatementsAvailability } from "../detect/history";
import type { WorkloadShift } from "../detect/workload-class";
import { PG_STAT_STATEMENTS_INSTRUCTION } from "../metrics/sample";
import type { Analysis } from "./analyze";
import type { DecisionView } from "./decision";

/** What the loader read, so a reader can tell a quiet target from a short history. */
export interface HistoryMeta {
  snapshots: number;
  query_windows: number;
  /** Points the seasonal model saw (bucket means plus the newest raw snapshots). */
  seasonal_points: number;
  from: string | null;
  to: string | null;
  /** The bounds the loader applied (rows per metric, queries per window, …). */
  limits: Record<string, number>;
}

export interface AnalysisView {
  target: string;
  analyzed_at: string;
  history: HistoryMeta & {
    newest_age_seconds: number | null;
    baseline_start: { snapshot_time: string | null; reason: DetectionReport["baseline_start"]["reason"] };
  };
  pg_stat_statements: StatementsAvailability | null;
  /** Things the operator should know or do, in words. */
  notices: string[];
  metrics: {
    current: Partial<Record<MetricName, number>>;
    cusum: Partial<Record<MetricName, CusumView>>;
    degraded: MetricName[];
  };
  queries: {
    regressions: RegressionView[];
    same_load: number;
    changed_load: number;
  };
  workload: {
    class: string | null;
    score: number | null;
    features: Record<string, number | null> | null;
    shift: { active: boolean; latest: WorkloadShift | null; count: number };
  };
  change_points: ChangePointView[];
  usl: UslView;
  seasonal: Partial<Record<MetricName, SeasonalView>>;
  confidence: { score: number; high: boolean; threshold: number; components: DetectionReport["confidence"]["components"] };
  rollout: { state: string; active: boolean; last_optimization_time: string | null };
  facts: FactMap;
  decision: DecisionView;
}

export interface CusumView {
  direction: "down" | "up";
  status: string;
  statistic: number;
  k: number;
  h: number;
  degraded: boolean;
  baseline: { center: number; sigma: number; floored: boolean } | null;
  monitored_points: number;
  alarms: Array<{ snapshot_time: string; statistic: number }>;
}

export interface RegressionView {
  queryid: string;
  query: string | null;
  load: "same_load" | "changed_load";
  pct: number;
  current_mean_ms: number;
  baseline_mean_ms: number;
  current_calls: number;
  baseline_calls: number;
  baseline_windows: number;
}

export interface ChangePointView {
  metric: MetricName;
  snapshot_time: string;
  magnitude: number;
  relative_change: number;
  mean_before: number;
  mean_after: number;
  p_value: number;
  degrading: boolean;
  recent: boolean;
  /** Recent, degrading and above the magnitude filter: it raised otava_change_point(M, Mag). */
  confirms: boolean;
}

export type UslView =
  | {
      status: "fitted";
      deviation: number;
      warning: boolean;
      fit: { lambda: number; sigma: number; kappa: number; r2: number; peak_concurrency: number | null; points: number };
      current: { concurrency: number; throughput: number; predicted: number };
    }
  | { status: "insufficient_data"; reason: string };

export interface SeasonalView {
  method: string;
  expected: number;
  band: { lower: number; upper: number };
  value: number;
  position: "below" | "inside" | "above";
  buckets: number;
}

const finite = (v: number) => (Number.isFinite(v) ? v : null);

export interface ViewOptions {
  target: string;
  history: HistoryMeta;
  /** Query texts by queryid, when the loader has them. */
  queryText?: ReadonlyMap<string, string>;
  /** usl_deviation below this raises usl_warning (rules' usl_min_deviation; default −0.15). */
  uslWarning?: number;
  /** Confidence at or above this is high (default 0.30). */
  highConfidence?: number;
}

export function analysisView(a: Analysis, opts: ViewOptions): AnalysisView {
  const r = a.report;
  const nowMs = Date.parse(a.now);
  const notices: string[] = [];
  if (r.pg_stat_statements && !r.pg_stat_statements.available) {
    notices.push(statementsNotice(r.pg_stat_statements));
  }
  if (opts.history.snapshots === 0) notices.push("no metrics collected for this target in the analysed window: nothing to detect yet");

  const current: Partial<Record<MetricName, number>> = {};
  for (const f of r.facts) if (f.pred === "metric_value") current[f.args[0] as MetricName] = f.args[1] as number;
  const cusum: Partial<Record<MetricName, CusumView>> = {};
  for (const c of r.cusum) {
    cusum[c.metric] = {
      direction: c.degradation,
      status: c.status,
      statistic: round(c.statistic),
      k: c.k,
      h: c.h,
      degraded: c.degraded,
      baseline: c.baseline ? { center: round(c.baseline.center, 6), sigma: round(c.baseline.sigma, 6), floored: c.baseline.floored } : null,
      monitored_points: c.monitored_points,
      alarms: r.alarms.filter((x) => x.metric === c.metric).map((x) => ({ snapshot_time: x.snapshot_time, statistic: round(x.statistic) })),
    };
  }
  const confirming = new Set(a.factMap.otava_change_point?.map((t) => String(t[0])) ?? []);
  const seasonal: Partial<Record<MetricName, SeasonalView>> = {};
  for (const e of r.seasonal) {
    seasonal[e.metric] = {
      method: e.method,
      expected: round(e.expected, 6),
      band: { lower: round(e.lower, 6), upper: round(e.upper, 6) },
      value: round(e.value, 6),
      position: e.position,
      buckets: e.buckets,
    };
  }
  const uslWarning = opts.uslWarning ?? -0.15;
  const lastShift = r.workload.shifts.at(-1) ?? null;
  const newest = opts.history.to ? Date.parse(opts.history.to) : null;

  return {
    target: opts.target,
    analyzed_at: a.now,
    history: {
      ...opts.history,
      newest_age_seconds: newest === null ? null : Math.round((nowMs - newest) / 1000),
      baseline_start: { snapshot_time: r.baseline_start.snapshot_time, reason: r.baseline_start.reason },
    },
    pg_stat_statements: r.pg_stat_statements,
    notices,
    metrics: { current, cusum, degraded: r.cusum.filter((c) => c.degraded).map((c) => c.metric) },
    queries: {
      regressions: r.query_regressions.map((q) => ({
        queryid: q.queryid,
        query: opts.queryText?.get(q.queryid) ?? null,
        load: q.load,
        pct: q.pct,
        current_mean_ms: round(q.current_mean_ms, 6),
        baseline_mean_ms: round(q.baseline_mean_ms, 6),
        current_calls: q.current_calls,
        baseline_calls: round(q.baseline_calls, 2),
        baseline_windows: q.baseline_windows,
      })),
      same_load: r.query_regressions.filter((q) => q.load === "same_load").length,
      changed_load: r.query_regressions.filter((q) => q.load === "changed_load").length,
    },
    workload: {
      class: r.workload.class,
      score: r.workload.score === null ? null : round(r.workload.score),
      features: r.workload.features ? Object.fromEntries(Object.entries(r.workload.features).map(([k, v]) => [k, v === null ? null : round(v, 6)])) : null,
      shift: { active: r.workload.shift_active, latest: lastShift, count: r.workload.shifts.length },
    },
    change_points: r.change_points.map((c) => ({
      metric: c.metric,
      snapshot_time: c.snapshot_time,
      magnitude: round(c.magnitude),
      relative_change: round(c.relative_change),
      mean_before: round(c.mean_before, 6),
      mean_after: round(c.mean_after, 6),
      p_value: round(c.p_value),
      degrading: c.degrading,
      recent: c.recent,
      confirms: confirming.has(c.metric) && c.recent && c.degrading,
    })),
    usl:
      r.usl.status === "fitted"
        ? {
            status: "fitted",
            deviation: round(r.usl.current.deviation),
            warning: r.usl.current.deviation < uslWarning,
            fit: {
              lambda: round(r.usl.fit.lambda, 6),
              sigma: round(r.usl.fit.sigma, 6),
              kappa: round(r.usl.fit.kappa, 8),
              r2: round(r.usl.fit.r2),
              peak_concurrency: finite(round(r.usl.fit.peak_concurrency, 2)),
              points: r.usl.fit.points,
            },
            current: { concurrency: r.usl.current.concurrency, throughput: round(r.usl.current.throughput, 6), predicted: round(r.usl.current.predicted, 6) },
          }
        : { status: "insufficient_data", reason: r.usl.reason },
    seasonal,
    confidence: { score: r.confidence.score, high: r.confidence.high, threshold: opts.highConfidence ?? 0.3, components: r.confidence.components },
    rollout: {
      state: a.rollout.state,
      active: a.rollout.active,
      last_optimization_time: a.rollout.lastOptimizationTime === null ? null : new Date(a.rollout.lastOptimizationTime).toISOString(),
    },
    facts: a.factMap,
    decision: a.decision,
  };
}

/** The operator instruction when pg_stat_statements is missing, in one line. */
export function statementsNotice(s: StatementsAvailability): string {
  const what = s.message ?? `pg_stat_statements is unavailable (${s.reason ?? "unknown reason"})`;
  const todo = s.instruction ?? PG_STAT_STATEMENTS_INSTRUCTION;
  return `${what}: ${todo}. Without it pg2une sees no per-query statistics (no query regressions; the workload class comes from system rates only).`;
}
