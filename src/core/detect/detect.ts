/**
 * The detection pipeline over one target's recent history, pure and deterministic:
 *
 *   workload class → baseline start → CUSUM per metric → per-query regressions
 *   → E-Divisive change points → USL deviation → seasonal expectation → confidence → facts
 *
 * The baseline start is the latest of: the history's start, the caller's `baseline_valid_from`
 * (after a promoted run), and the newest confirmed workload shift. CUSUM references and the USL
 * fit begin there; change points before it are reported but do not confirm anything.
 *
 * @example
 *   const report = detect({ snapshots, queries: [], baseline_valid_from: undefined });
 *   report.facts; // [{ pred: "metric_value", args: ["tps", 812.4] }, …]
 */
import { createRng } from "../random";
import { type ChangePointConfig, DEFAULT_DETECT_CONFIG, type DetectConfig, type UslConfig } from "./config";
import { type Confidence, confidenceScore } from "./confidence";
import { type CusumAlarm, type CusumResult, type Degradation, detectCusum } from "./cusum";
import { eDivisive } from "./e-divisive";
import { type Fact, fact, round } from "./facts";
import { type MetricName, type StatementsAvailability, type SystemSnapshot, firstIndexAtOrAfter, latestValue, metricSeries } from "./history";
import type { DetectionInput } from "./input";
import { type QueryRegression, detectQueryRegressions } from "./query-regression";
import { type SeasonalExpectation, seasonalExpectation } from "./seasonal";
import { type UslFit, type UslPoint, fitUsl, uslDeviation, uslThroughput } from "./usl";
import { type WorkloadAnalysis, classifyWorkload } from "./workload-class";

/** How each metric degrades, for metrics without a CUSUM entry of their own. */
export const DEGRADATION: Record<MetricName, Degradation> = {
  tps: "down",
  qps: "down",
  latency_p50: "up",
  latency_p95: "up",
  latency_p99: "up",
  latency_mean: "up",
  buffer_hit_ratio: "down",
  temp_bytes_per_sec: "up",
  wal_bytes_per_sec: "up",
  active_connections: "up",
  total_connections: "up",
};

export interface ChangePointReport {
  metric: MetricName;
  index: number;
  snapshot_time: string;
  p_value: number;
  magnitude: number;
  relative_change: number;
  mean_before: number;
  mean_after: number;
  /** The change goes the way this metric degrades. */
  degrading: boolean;
  /** Within the newest `recentPoints` values and after the baseline start. */
  recent: boolean;
}

export type UslReport =
  | { status: "fitted"; fit: UslFit; current: UslPoint & { predicted: number; deviation: number; index: number } }
  | { status: "insufficient_data"; reason: string };

export interface DetectionReport {
  alarms: CusumAlarm[];
  change_points: ChangePointReport[];
  facts: Fact[];
  cusum: Array<Omit<CusumResult, "alarms">>;
  query_regressions: QueryRegression[];
  workload: WorkloadAnalysis;
  usl: UslReport;
  seasonal: SeasonalExpectation[];
  confidence: Confidence;
  /** Index and time from which baselines were learned. */
  baseline_start: { index: number; snapshot_time: string | null; reason: "history_start" | "baseline_valid_from" | "workload_shift" };
  /**
   * pg_stat_statements as the newest snapshot that reports on it says (null when the input does not
   * say). When unavailable, per-query detection had nothing to work with: see `instruction`.
   */
  pg_stat_statements: StatementsAvailability | null;
}

/** The newest snapshot's word on pg_stat_statements, if any snapshot carries one. */
export function statementsAvailability(history: readonly SystemSnapshot[]): StatementsAvailability | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const availability = history[i]!.pg_stat_statements;
    if (availability) return availability;
  }
  return null;
}

function degradationOf(metric: MetricName, config: DetectConfig): Degradation {
  return config.cusum.metrics.find((m) => m.metric === metric)?.degradation ?? DEGRADATION[metric];
}

function changePointsOf(history: readonly SystemSnapshot[], metric: MetricName, config: DetectConfig, baselineIndex: number): ChangePointReport[] {
  const cp: ChangePointConfig = config.changePoints;
  const all = metricSeries(history, metric);
  const from = Math.max(0, all.values.length - cp.maxPoints);
  const values = all.values.slice(from);
  // One RNG per metric, seeded from the config seed and the metric name, so adding a metric
  // does not change another metric's permutations.
  const rng = createRng(config.seed ^ hash(metric));
  const recentFrom = all.values.length - cp.recentPoints;
  const degradation = degradationOf(metric, config);
  return eDivisive(values, rng, cp).map((c) => {
    const position = from + c.index;
    const index = all.indices[position]!;
    return {
      metric,
      index,
      snapshot_time: history[index]!.snapshot_time,
      p_value: c.pValue,
      magnitude: c.magnitude,
      relative_change: c.relativeChange,
      mean_before: c.meanBefore,
      mean_after: c.meanAfter,
      degrading: degradation === "down" ? c.meanAfter < c.meanBefore : c.meanAfter > c.meanBefore,
      recent: position >= recentFrom && index >= baselineIndex,
    };
  });
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h | 0;
}

function uslOf(history: readonly SystemSnapshot[], config: UslConfig, baselineIndex: number): UslReport {
  const points: Array<UslPoint & { index: number }> = [];
  for (let i = baselineIndex; i < history.length; i++) {
    const n = history[i]![config.concurrency];
    const x = history[i]![config.throughput];
    if (typeof n === "number" && typeof x === "number" && n >= 1 && x > 0) points.push({ concurrency: n, throughput: x, index: i });
  }
  const current = points.pop();
  if (!current || points.length < config.minPoints) {
    return { status: "insufficient_data", reason: `need ${config.minPoints} earlier points with ${config.concurrency} ≥ 1 and ${config.throughput} > 0, have ${points.length}` };
  }
  const distinct = new Set(points.map((p) => p.concurrency)).size;
  if (distinct < config.minDistinctConcurrency) {
    return { status: "insufficient_data", reason: `need ${config.minDistinctConcurrency} distinct ${config.concurrency} values, have ${distinct}` };
  }
  const fit = fitUsl(points);
  return {
    status: "fitted",
    fit,
    current: { ...current, predicted: uslThroughput(fit, current.concurrency), deviation: uslDeviation(fit, current) },
  };
}

export function detect(input: DetectionInput, config: DetectConfig = DEFAULT_DETECT_CONFIG): DetectionReport {
  const history = input.snapshots;
  const workload = classifyWorkload(history, input.queries, config.workload);

  let baselineStart: DetectionReport["baseline_start"] = { index: 0, snapshot_time: history[0]?.snapshot_time ?? null, reason: "history_start" };
  if (input.baseline_valid_from !== undefined) {
    const index = firstIndexAtOrAfter(history, Date.parse(input.baseline_valid_from));
    if (index > baselineStart.index) baselineStart = { index, snapshot_time: history[index]?.snapshot_time ?? null, reason: "baseline_valid_from" };
  }
  const lastShift = workload.shifts.at(-1);
  if (lastShift && lastShift.index > baselineStart.index) {
    baselineStart = { index: lastShift.index, snapshot_time: lastShift.snapshot_time, reason: "workload_shift" };
  }

  const cusum = config.cusum.metrics.map((m) => detectCusum(history, m, config.cusum, baselineStart.index));
  const queryRegressions = detectQueryRegressions(input.queries, config.queryRegression);
  const changePoints = config.changePoints.metrics.flatMap((m) => changePointsOf(history, m, config, baselineStart.index));
  const usl = uslOf(history, config.usl, baselineStart.index);
  // A caller with a longer (possibly bucketed) history passes it for the seasonal model only.
  const seasonalHistory = input.seasonal_history ?? history;
  const seasonal = config.seasonal.metrics
    .map((m) => seasonalExpectation(seasonalHistory, m, config.seasonal))
    .filter((e): e is SeasonalExpectation => e !== null);

  const facts: Fact[] = [];
  const metrics = [...new Set([...cusum.map((c) => c.metric), ...config.changePoints.metrics, ...config.seasonal.metrics])];
  for (const m of metrics) {
    const value = latestValue(history, m);
    if (value !== null) facts.push(fact("metric_value", m, round(value, 6)));
  }
  const degraded = cusum.filter((c) => c.degraded);
  for (const c of degraded) facts.push(fact("metric_degraded", c.metric));
  for (const c of degraded) facts.push(fact("cusum_degradation", c.metric, round(c.statistic)));
  for (const r of queryRegressions) facts.push(fact("query_regression", r.queryid, r.load, r.pct));
  if (workload.class) facts.push(fact("workload", workload.class));
  if (workload.shift_active) facts.push(fact("workload_shift"));

  const confirming = new Map<MetricName, number>();
  for (const c of changePoints) {
    if (c.recent && c.degrading && c.magnitude > config.changePoints.minMagnitude) {
      confirming.set(c.metric, Math.max(confirming.get(c.metric) ?? 0, c.magnitude));
    }
  }
  for (const [m, magnitude] of confirming) facts.push(fact("otava_change_point", m, round(magnitude)));
  if (usl.status === "fitted") facts.push(fact("usl_deviation", round(usl.current.deviation)));
  for (const e of seasonal) facts.push(fact("seasonal_expected", e.metric, round(e.expected, 6)));

  const seasonalUnexpected = seasonal.some((e) => e.position === (degradationOf(e.metric, config) === "down" ? "below" : "above"));
  const confidence = confidenceScore(
    {
      cusumCount: degraded.length,
      uslDeviation: usl.status === "fitted" ? usl.current.deviation : null,
      otavaConfirms: confirming.size > 0,
      seasonalUnexpected,
    },
    { uslWarning: config.usl.warningDeviation, high: config.confidence.highConfidence },
  );
  if (confidence.high) facts.push(fact("high_confidence"));

  return {
    alarms: cusum.flatMap((c) => c.alarms).sort((a, b) => a.index - b.index),
    change_points: changePoints.sort((a, b) => a.index - b.index),
    facts,
    cusum: cusum.map(({ alarms: _alarms, ...rest }) => rest),
    query_regressions: queryRegressions,
    workload,
    usl,
    seasonal,
    confidence,
    baseline_start: baselineStart,
    pg_stat_statements: statementsAvailability(history),
  };
}
