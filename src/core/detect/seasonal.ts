/**
 * A seasonal/trend expectation per metric: what the newest value "should" be given the history,
 * and a band around it. The seed used Prophet on 15-minute buckets with daily seasonality; we use
 * additive Holt–Winters (triple exponential smoothing) on the same buckets, which needs no
 * library and degrades gracefully:
 *
 *   ≥ 2 seasons of buckets  → Holt–Winters (level, trend, season of `seasonLength` buckets)
 *   ≥ `minBuckets` buckets  → Holt's linear method (level and damped-in trend, no season)
 *   fewer                   → no expectation (no seasonal_expected fact)
 *
 * Smoothing constants are picked from a small grid by the one-step-ahead squared error. The band
 * is ±z·σ, σ from the one-step residuals (MAD-based, so a past incident does not widen it), and
 * never narrower than `minBandRelative` of the expectation. Empty buckets are filled with the
 * model's own forecast, so gaps do not shift the season.
 */
import type { MetricName, SystemSnapshot } from "./history";
import { metricSeries } from "./history";
import { MAD_TO_SIGMA, mad } from "./robust";

export interface SeasonalConfig {
  metrics: MetricName[];
  bucketMs: number;
  /** Buckets per season (96 × 15 min = one day). */
  seasonLength: number;
  minBuckets: number;
  bandZ: number;
  /** Narrowest half-band as a fraction of the expectation, per metric. */
  minBandRelative: { default: number } & Partial<Record<MetricName, number>>;
}

export type SeasonalMethod = "holt_winters" | "holt";

export interface SeasonalExpectation {
  metric: MetricName;
  method: SeasonalMethod;
  /** Expected value for the newest bucket, learned from the buckets before it. */
  expected: number;
  lower: number;
  upper: number;
  /** The newest observed value. */
  value: number;
  position: "below" | "inside" | "above";
  buckets: number;
  smoothing: { alpha: number; beta: number; gamma: number };
}

/** Mean per bucket over consecutive bucket numbers; null where a bucket has no value. */
export function bucketMeans(times: readonly number[], values: readonly number[], bucketMs: number): Array<number | null> {
  if (times.length === 0) return [];
  const first = Math.floor(times[0]! / bucketMs);
  const last = Math.floor(times[times.length - 1]! / bucketMs);
  const sums = new Array<number>(last - first + 1).fill(0);
  const counts = new Array<number>(last - first + 1).fill(0);
  for (let i = 0; i < times.length; i++) {
    const b = Math.floor(times[i]! / bucketMs) - first;
    sums[b]! += values[i]!;
    counts[b]!++;
  }
  return sums.map((s, i) => (counts[i]! > 0 ? s / counts[i]! : null));
}

interface Smoothing {
  alpha: number;
  beta: number;
  gamma: number;
}

interface Run {
  /** Forecast of the bucket right after the data. */
  forecast: number;
  residuals: number[];
  sse: number;
}

/** One pass of additive Holt–Winters (m > 0) or Holt (m = 0) over `y`, one-step errors collected. */
function smooth(y: ReadonlyArray<number | null>, m: number, s: Smoothing): Run {
  const present = y.filter((v): v is number => v !== null);
  let level: number;
  let trend = 0;
  const season = new Array<number>(Math.max(m, 1)).fill(0);
  let start: number;
  if (m > 0) {
    const seasonMean = (k: number) => {
      const slice = y.slice(k * m, (k + 1) * m).filter((v): v is number => v !== null);
      return slice.reduce((a, b) => a + b, 0) / Math.max(slice.length, 1);
    };
    const first = seasonMean(0);
    level = first;
    trend = (seasonMean(1) - first) / m;
    for (let i = 0; i < m; i++) season[i] = (y[i] ?? first) - first;
    start = m;
  } else {
    level = present[0]!;
    start = y.findIndex((v) => v !== null) + 1;
  }
  const residuals: number[] = [];
  let sse = 0;
  for (let t = start; t < y.length; t++) {
    const seasonal = m > 0 ? season[t % m]! : 0;
    const forecast = level + trend + seasonal;
    const observed = y[t] ?? forecast;
    if (y[t] !== null && y[t] !== undefined) {
      const error = observed - forecast;
      residuals.push(error);
      sse += error * error;
    }
    const previousLevel = level;
    level = s.alpha * (observed - seasonal) + (1 - s.alpha) * (level + trend);
    trend = s.beta * (level - previousLevel) + (1 - s.beta) * trend;
    if (m > 0) season[t % m] = s.gamma * (observed - level) + (1 - s.gamma) * seasonal;
  }
  const next = y.length;
  return { forecast: level + trend + (m > 0 ? season[next % m]! : 0), residuals, sse };
}

const ALPHAS = [0.1, 0.2, 0.3, 0.5, 0.7, 0.9];
const BETAS = [0, 0.05, 0.1, 0.2];
const GAMMAS = [0.05, 0.1, 0.2, 0.4];

/** The expectation for one metric, or null when the history is too short. */
export function seasonalExpectation(
  history: readonly SystemSnapshot[],
  metric: MetricName,
  config: SeasonalConfig,
  startIndex = 0,
): SeasonalExpectation | null {
  const series = metricSeries(history, metric, startIndex);
  if (series.values.length === 0) return null;
  const buckets = bucketMeans(series.times, series.values, config.bucketMs);
  // Learn from the completed buckets; the newest one is usually still filling.
  const training = buckets.slice(0, -1);
  const filled = training.filter((v) => v !== null).length;
  if (filled < config.minBuckets) return null;
  const m = training.length >= 2 * config.seasonLength ? config.seasonLength : 0;

  let best: { run: Run; smoothing: Smoothing } | null = null;
  for (const alpha of ALPHAS) {
    for (const beta of BETAS) {
      for (const gamma of m > 0 ? GAMMAS : [0]) {
        const run = smooth(training, m, { alpha, beta, gamma });
        if (best === null || run.sse < best.run.sse) best = { run, smoothing: { alpha, beta, gamma } };
      }
    }
  }
  const { run, smoothing } = best!;
  const sigma = run.residuals.length >= 2 ? MAD_TO_SIGMA * mad(run.residuals) : 0;
  const halfWidth = Math.max(config.bandZ * sigma, (config.minBandRelative[metric] ?? config.minBandRelative.default) * Math.abs(run.forecast));
  const value = series.values[series.values.length - 1]!;
  const lower = run.forecast - halfWidth;
  const upper = run.forecast + halfWidth;
  return {
    metric,
    method: m > 0 ? "holt_winters" : "holt",
    expected: run.forecast,
    lower,
    upper,
    value,
    position: value < lower ? "below" : value > upper ? "above" : "inside",
    buckets: filled,
    smoothing,
  };
}
