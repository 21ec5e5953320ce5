/**
 * What a run measured, said honestly (DESIGN.md, "Measuring under noise"): the improvement
 * (0.6·Δtps % + 0.4·(−Δp99 %), src/core/optimize/objective.ts) with a 95 % interval built from
 * the spread of the window samples, and a claim only when the interval excludes zero.
 *
 * The improvement's interval is conservative: its half-width is 0.6·(tps half-width) +
 * 0.4·(p99 half-width), the bound for perfectly correlated errors (tps and p99 of one window
 * move together under a closed-loop client), so it is never narrower than the truth.
 *
 * @example
 *   const s = resultSummary(baselineWindows, resultWindows, { comparison: "before_after" });
 *   s.claim;     // "improvement" | "regression" | "none"
 *   s.statement; // "no difference distinguishable from noise: −1.2 % (95 % CI −9.8 … +7.4 %) …"
 */
import { improvementScore } from "../optimize/objective";
import { CONFIDENCE_LEVEL, differenceInterval, meanInterval, type MeanInterval } from "./statistics";
import { valuesOf, type SubWindow, type ThroughputMetric } from "./series";

/** Run-to-run noise of one configuration measured on this class of machine (DESIGN.md). */
export const MEASURED_NOISE_RANGE_PCT: readonly [number, number] = [3, 21];

export type Comparison = "before_after" | "same_window";

export interface MetricChange {
  baseline: MeanInterval | null;
  result: MeanInterval | null;
  /** Relative change of the means, percent. */
  changePct: number | null;
  /** Interval of the relative change (Welch, divided by the baseline mean), percent. */
  changeInterval: [number, number] | null;
}

export interface ResultSummary {
  comparison: Comparison;
  /** What `tps` holds: transactions/s, or statements/s when samples were too short for tps. */
  throughput: ThroughputMetric;
  tps: MetricChange;
  latencyP99: MetricChange;
  /** 0.6·Δtps % + 0.4·(−Δp99 %), from the window means; null when tps was not measured. */
  improvementPct: number | null;
  improvementInterval: [number, number] | null;
  level: number;
  /** improvement: the whole interval is above 0; regression: below 0; none otherwise. */
  claim: "improvement" | "regression" | "none";
  statement: string;
}

function change(baseline: readonly number[], result: readonly number[]): MetricChange {
  const b = baseline.length ? meanInterval(baseline) : null;
  const r = result.length ? meanInterval(result) : null;
  if (!b || !r || !(b.mean > 0)) return { baseline: b, result: r, changePct: null, changeInterval: null };
  const changePct = ((r.mean - b.mean) / b.mean) * 100;
  const d = differenceInterval(baseline, result);
  const changeInterval: [number, number] | null = d.halfWidth !== null ? [((d.difference - d.halfWidth) / b.mean) * 100, ((d.difference + d.halfWidth) / b.mean) * 100] : null;
  return { baseline: b, result: r, changePct, changeInterval };
}

const signed = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(1)}`;
const num = (x: number | undefined) => (x === undefined ? "?" : x >= 100 ? x.toFixed(0) : x.toFixed(2));

export function resultSummary(baseline: readonly SubWindow[], result: readonly SubWindow[], opts: { comparison: Comparison; throughput?: ThroughputMetric }): ResultSummary {
  const throughput = opts.throughput ?? "tps";
  const tps = change(valuesOf(baseline, throughput), valuesOf(result, throughput));
  const latencyP99 = change(valuesOf(baseline, "latencyP99"), valuesOf(result, "latencyP99"));
  const level = CONFIDENCE_LEVEL;
  if (tps.changePct === null || !tps.baseline || !tps.result) {
    return {
      comparison: opts.comparison,
      throughput,
      tps,
      latencyP99,
      improvementPct: null,
      improvementInterval: null,
      level,
      claim: "none",
      statement: `${throughput} was not measured on both sides (no traffic, or counter resets): no improvement can be stated`,
    };
  }
  const improvementPct = improvementScore(
    { tps: tps.baseline.mean, latencyP99: latencyP99.baseline?.mean ?? 0 },
    { tps: tps.result.mean, latencyP99: latencyP99.result?.mean ?? 0 },
  );
  const tpsHalf = tps.changeInterval ? (tps.changeInterval[1] - tps.changeInterval[0]) / 2 : null;
  const latHalf = latencyP99.changePct === null ? 0 : latencyP99.changeInterval ? (latencyP99.changeInterval[1] - latencyP99.changeInterval[0]) / 2 : null;
  const half = tpsHalf !== null && latHalf !== null ? 0.6 * tpsHalf + 0.4 * latHalf : null;
  const improvementInterval: [number, number] | null = half !== null ? [improvementPct - half, improvementPct + half] : null;
  const claim = improvementInterval === null ? "none" : improvementInterval[0] > 0 ? "improvement" : improvementInterval[1] < 0 ? "regression" : "none";

  const samples = `${tps.baseline.n} and ${tps.result.n} samples`;
  const how =
    opts.comparison === "before_after"
      ? `before/after windows (${samples}), not interleaved; the same configuration varies ${MEASURED_NOISE_RANGE_PCT[0]}–${MEASURED_NOISE_RANGE_PCT[1]} % run to run on this class of machine`
      : `same window (${samples})`;
  const detail = `${throughput} ${num(tps.baseline.mean)} → ${num(tps.result.mean)}/s, p99 ${num(latencyP99.baseline?.mean)} → ${num(latencyP99.result?.mean)} ms; ${how}`;
  const ci = improvementInterval ? `${Math.round(level * 100)} % CI ${signed(improvementInterval[0])} … ${signed(improvementInterval[1])} %` : null;
  let statement: string;
  if (!ci) statement = `no interval (fewer than two samples on one side), so nothing is claimed: measured ${signed(improvementPct)} %; ${detail}`;
  else if (claim === "improvement") statement = `improvement ${signed(improvementPct)} % (${ci}); ${detail}`;
  else if (claim === "regression") statement = `regression ${signed(improvementPct)} % (${ci}); ${detail}`;
  else statement = `no difference distinguishable from noise: ${signed(improvementPct)} % (${ci} includes 0); ${detail}`;
  return { comparison: opts.comparison, throughput, tps, latencyP99, improvementPct, improvementInterval, level, claim, statement };
}
