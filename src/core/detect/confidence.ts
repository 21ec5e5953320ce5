/**
 * The seed's confidence score (Anytune.Detection.Confidence as pg2une called it), so the
 * Datalog gate `action_ready :- should_optimize, high_confidence()` behaves as before:
 *
 *   min(cusum_count · 0.15, 0.30)
 *   + 0.15 if usl_deviation < −0.15
 *   + 0.15 if E-Divisive confirms a change
 *   + 0.10 if a metric is outside its seasonal band
 *   capped at 1.0;  high_confidence() at ≥ 0.30
 *
 * Computed in hundredths so 0.15 + 0.15 is exactly 0.30.
 */
export interface ConfidenceSignals {
  /** Number of cusum_degradation facts (metrics currently degraded). */
  cusumCount: number;
  /** Current usl_deviation, or null without a fit. */
  uslDeviation: number | null;
  otavaConfirms: boolean;
  seasonalUnexpected: boolean;
}

export interface Confidence {
  score: number;
  high: boolean;
  components: { cusum: number; usl: number; otava: number; seasonal: number };
}

export const USL_WARNING_DEVIATION = -0.15;
export const HIGH_CONFIDENCE = 0.3;

export function confidenceScore(
  signals: ConfidenceSignals,
  thresholds: { uslWarning: number; high: number } = { uslWarning: USL_WARNING_DEVIATION, high: HIGH_CONFIDENCE },
): Confidence {
  const cusum = Math.min(signals.cusumCount * 15, 30);
  const usl = signals.uslDeviation !== null && signals.uslDeviation < thresholds.uslWarning ? 15 : 0;
  const otava = signals.otavaConfirms ? 15 : 0;
  const seasonal = signals.seasonalUnexpected ? 10 : 0;
  const hundredths = Math.min(cusum + usl + otava + seasonal, 100);
  return {
    score: hundredths / 100,
    high: hundredths >= Math.round(thresholds.high * 100),
    components: { cusum: cusum / 100, usl: usl / 100, otava: otava / 100, seasonal: seasonal / 100 },
  };
}
