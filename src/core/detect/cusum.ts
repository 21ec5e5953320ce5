/**
 * One-sided tabular CUSUM (Page 1954; Montgomery, "Introduction to Statistical Quality Control",
 * §9.1) per metric, in the direction that metric degrades: tps and hit ratio down, latency up.
 *
 *   z_t = ±(x_t − μ₀) / σ        (sign chosen so that "worse" is positive)
 *   S_t = max(0, S_{t−1} + z_t − k),  S_0 = 0;  alarm when S_t > h
 *
 * μ₀ and σ come from a robust baseline (median, MAD with a σ floor) over a reference window:
 * the `referenceSize` valid points right after the baseline start (the history's start, the
 * caller's "baseline valid from" time after a promoted run, or a confirmed workload shift),
 * except that the reference trails the newest point by at most `maxMonitorLength` samples, so
 * a change that has persisted for that long becomes the new normal instead of alarming forever.
 *
 * The statistic is not reset after an alarm: a sustained degradation keeps S above h, and that
 * is what `metric_degraded(M)` reports. An alarm is recorded at each upward crossing of h, so
 * the first alarm is exactly the run length Montgomery's ARL tables describe.
 */
import { type MetricName, type SystemSnapshot, metricSeries } from "./history";
import { type RobustBaseline, type SigmaFloor, robustBaseline } from "./robust";

export type Degradation = "down" | "up";

export interface CusumMetricConfig {
  metric: MetricName;
  /** The direction in which this metric gets worse. */
  degradation: Degradation;
  /** Allowance (slack) in σ units: shifts smaller than about 2k are ignored. */
  k: number;
  /** Decision interval in σ units. */
  h: number;
  sigmaFloor: SigmaFloor;
}

export interface CusumWindowConfig {
  /** Valid points that make up the baseline (reference) window. */
  referenceSize: number;
  /** At most this many points after the reference are monitored; older reference slides forward. */
  maxMonitorLength: number;
}

export interface CusumAlarm {
  metric: MetricName;
  /** Position in the history array. */
  index: number;
  snapshot_time: string;
  /** S_t at the crossing, in σ units. */
  statistic: number;
}

export type CusumStatus = "monitoring" | "learning_baseline";

export interface CusumResult {
  metric: MetricName;
  degradation: Degradation;
  k: number;
  h: number;
  status: CusumStatus;
  baseline: RobustBaseline | null;
  /** History positions of the reference window [from, to] (inclusive), when learned. */
  reference: { from: number; to: number } | null;
  alarms: CusumAlarm[];
  /** S at the newest monitored point (0 while learning). */
  statistic: number;
  /** S is above h at the newest point: the degradation is ongoing. */
  degraded: boolean;
  monitored_points: number;
}

/** The bare recursion over already standardized, sign-adjusted values. */
export function cusumStep(previous: number, z: number, k: number): number {
  const next = previous + z - k;
  return next > 0 ? next : 0;
}

/**
 * Samples until the first S_t > h of the one-sided CUSUM we run in production, drawing z from
 * `nextZ`. Stops at `maxSteps` and returns it, so a broken generator cannot hang a test.
 * In control its ARL is about twice the value in Montgomery's table (336 for k=½, h=4), since
 * it watches one side only.
 */
export function runLength(nextZ: () => number, k: number, h: number, maxSteps = 1_000_000): number {
  let s = 0;
  for (let t = 1; t <= maxSteps; t++) {
    s = cusumStep(s, nextZ(), k);
    if (s > h) return t;
  }
  return maxSteps;
}

/**
 * Run length of the two-sided tabular CUSUM (C⁺ and C⁻, signal when either exceeds h): the
 * scheme Montgomery's ARL table describes (ARL₀ = 168 for k=½, h=4).
 */
export function twoSidedRunLength(nextZ: () => number, k: number, h: number, maxSteps = 1_000_000): number {
  let upper = 0;
  let lower = 0;
  for (let t = 1; t <= maxSteps; t++) {
    const z = nextZ();
    upper = cusumStep(upper, z, k);
    lower = cusumStep(lower, -z, k);
    if (upper > h || lower > h) return t;
  }
  return maxSteps;
}

export function detectCusum(
  history: readonly SystemSnapshot[],
  config: CusumMetricConfig,
  window: CusumWindowConfig,
  startIndex = 0,
): CusumResult {
  const series = metricSeries(history, config.metric, startIndex);
  const result: CusumResult = {
    metric: config.metric,
    degradation: config.degradation,
    k: config.k,
    h: config.h,
    status: "learning_baseline",
    baseline: null,
    reference: null,
    alarms: [],
    statistic: 0,
    degraded: false,
    monitored_points: 0,
  };
  const n = series.values.length;
  if (n <= window.referenceSize) return result;

  const referenceStart = Math.max(0, n - window.maxMonitorLength - window.referenceSize);
  const referenceEnd = referenceStart + window.referenceSize;
  const baseline = robustBaseline(series.values.slice(referenceStart, referenceEnd), config.sigmaFloor);
  const sign = config.degradation === "down" ? -1 : 1;

  let s = 0;
  for (let i = referenceEnd; i < n; i++) {
    const z = (sign * (series.values[i]! - baseline.center)) / baseline.sigma;
    const next = cusumStep(s, z, config.k);
    if (next > config.h && s <= config.h) {
      const index = series.indices[i]!;
      result.alarms.push({ metric: config.metric, index, snapshot_time: history[index]!.snapshot_time, statistic: next });
    }
    s = next;
  }
  result.status = "monitoring";
  result.baseline = baseline;
  result.reference = { from: series.indices[referenceStart]!, to: series.indices[referenceEnd - 1]! };
  result.statistic = s;
  result.degraded = s > config.h;
  result.monitored_points = n - referenceEnd;
  return result;
}
