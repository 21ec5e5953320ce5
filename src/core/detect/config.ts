/**
 * Every detection threshold in one place, with its default and why (dexter style). The Worker,
 * the CLI and the benchmarks pass `DEFAULT_DETECT_CONFIG` or a copy with overrides.
 */
import type { CusumMetricConfig, CusumWindowConfig } from "./cusum";
import type { EDivisiveOptions } from "./e-divisive";
import type { MetricName } from "./history";
import type { QueryRegressionConfig } from "./query-regression";
import type { SeasonalConfig } from "./seasonal";
import type { WorkloadClassConfig } from "./workload-class";

export interface ChangePointConfig extends EDivisiveOptions {
  metrics: MetricName[];
  /** Only the newest this-many valid points of each metric are analysed (cost is O(n²) per test). */
  maxPoints: number;
  /** A change point yields otava_change_point(M, Mag) only above this magnitude (the seed's 0.10). */
  minMagnitude: number;
  /** …and only if it lies within this many newest points ("recent"; older ones are history). */
  recentPoints: number;
}

export interface UslConfig {
  /** Throughput metric (X) and concurrency metric (N). */
  throughput: MetricName;
  concurrency: MetricName;
  /** Points (with both values, N ≥ 1) required before fitting, as the seed's 5. */
  minPoints: number;
  /** Distinct N values required: a curve through one or two loads is not identifiable. */
  minDistinctConcurrency: number;
  /** usl_deviation below this adds confidence (the seed's −0.15). */
  warningDeviation: number;
}

export interface ConfidenceConfig {
  /** high_confidence() at or above this score (the seed's 0.30). */
  highConfidence: number;
}

export interface DetectConfig {
  cusum: { metrics: CusumMetricConfig[] } & CusumWindowConfig;
  queryRegression: QueryRegressionConfig;
  workload: WorkloadClassConfig;
  changePoints: ChangePointConfig;
  usl: UslConfig;
  seasonal: SeasonalConfig;
  confidence: ConfidenceConfig;
  /** Seed of the RNG used by permutation tests: the same input always gives the same report. */
  seed: number;
}

export const DEFAULT_DETECT_CONFIG: DetectConfig = {
  cusum: {
    metrics: [
      // σ floors: 2 % of the median for rates and latencies (a smaller wobble is never "3σ"),
      // 0.1 % of the median for the hit ratio (≈ 0.001 at 0.99: a drop to 0.98 is 10σ).
      { metric: "tps", degradation: "down", k: 0.5, h: 4, sigmaFloor: { relative: 0.02, absolute: 1e-6 } },
      { metric: "latency_p99", degradation: "up", k: 0.5, h: 4, sigmaFloor: { relative: 0.02, absolute: 1e-6 } },
      { metric: "buffer_hit_ratio", degradation: "down", k: 0.3, h: 3, sigmaFloor: { relative: 0.001, absolute: 1e-6 } },
    ],
    // 60 points = 1 h at one snapshot a minute. Estimation error in μ and σ lowers the in-control
    // ARL (Jones, Champ & Rigdon 2004): measured on a 200-point series with 40 monitored in-control
    // points, 30 reference points gave a false alarm first in 24 % of series, 60 in 18 %
    // (known parameters: 11 %).
    referenceSize: 60,
    // The reference trails the newest point by at most 2 h (120 snapshots a minute apart).
    maxMonitorLength: 120,
  },
  queryRegression: {
    baselineWindowMs: 6 * 60 * 60 * 1000,
    minBaselineWindows: 5,
    regressionThreshold: 0.2,
    sameLoadThreshold: 0.5,
    // 50 ms of extra execution time per window: a 0.05 → 0.08 ms query at 10 000 calls/s adds
    // 18 s a minute and counts; a 1 µs wobble of a statement that runs once a window does not.
    minExtraTimeMs: 50,
  },
  workload: {
    // Each snapshot is already an aggregate over its sample window; pooling more would let one
    // odd window count towards several confirmations.
    featureWindow: 1,
    longStatementMs: 100,
    enterThreshold: 0.35,
    exitThreshold: 0.15,
    confirmWindows: 3,
    shiftFreshness: 10,
    evidence: {
      long_time_share: { weight: 2, olapAtLeast: 0.5, oltpAtMost: 0.2 },
      mean_statement_ms: { weight: 1, olapAtLeast: 50, oltpAtMost: 5 },
      blocks_per_call: { weight: 1, olapAtLeast: 1000, oltpAtMost: 100 },
      rows_per_call: { weight: 0.5, olapAtLeast: 10_000 },
      temp_bytes_per_sec: { weight: 1, olapAtLeast: 1024 * 1024 },
      tps: { weight: 0.5, oltpAtLeast: 50 },
    },
  },
  changePoints: {
    metrics: ["tps", "latency_p99", "buffer_hit_ratio"],
    // Stricter than ecp's 0.05: a false change point feeds the confidence score. (Otava uses
    // 0.001 with its t-test.) With 199 permutations p can reach 0.005.
    significance: 0.01,
    permutations: 199,
    minSize: 5,
    alpha: 1,
    maxPoints: 200,
    minMagnitude: 0.1,
    recentPoints: 30,
  },
  usl: {
    throughput: "tps",
    concurrency: "active_connections",
    minPoints: 5,
    minDistinctConcurrency: 3,
    warningDeviation: -0.15,
  },
  seasonal: {
    metrics: ["tps", "latency_p99", "buffer_hit_ratio"],
    // The seed bucketed to 15 minutes for Prophet, with daily seasonality (96 buckets).
    bucketMs: 15 * 60 * 1000,
    seasonLength: 96,
    // Below this many buckets (2 h) there is no expectation at all.
    minBuckets: 8,
    // 95 % band, never narrower than ±5 % of the expectation (a flat history has tiny residuals);
    // ±0.2 % for the hit ratio, which lives just under 1.
    bandZ: 1.96,
    minBandRelative: { default: 0.05, buffer_hit_ratio: 0.002 },
  },
  confidence: { highConfidence: 0.3 },
  seed: 20240611,
};
