/**
 * The gates a rollout must pass at every step (DESIGN.md, "Rollout"):
 *
 *   vs baseline        p99 latency up by more than maxP99IncreasePct, or tps down by more than
 *                      maxTpsDropPct, compared with the baseline captured before the change
 *   canary vs primary  the canary's per-query mean latency, over the queries both nodes ran in
 *                      the same window, is more than maxCanaryLatencyRatio times the primary's
 *                      (each mean plus canaryLatencyFloorMs, the cost every statement pays anyway)
 *
 * Either fails → rollback. Gates compare point estimates (the means of the window); the
 * intervals are reported next to them (summary.ts) so an operator sees how sure the call was.
 *
 * @example
 *   const verdict = baselineGate(baselineWindows, resultWindows, "latencyP99", DEFAULT_GATE_THRESHOLDS);
 *   if (!verdict.pass) rollback(verdict.reason);
 */
import { z } from "zod";
import { mean, meanInterval } from "./statistics";
import { valuesOf, type Metric, type SubWindow, type ThroughputMetric } from "./series";

export const GateThresholdsSchema = z
  .object({
    /** p99 latency may rise at most this much (percent) over the baseline. */
    maxP99IncreasePct: z.number().min(0).max(1000).default(10),
    /** tps may drop at most this much (percent) below the baseline. */
    maxTpsDropPct: z.number().min(0).max(100).default(10),
    /** Canary/primary latency ratio (calls-weighted geometric mean over common queries) allowed. */
    maxCanaryLatencyRatio: z.number().min(1).max(100).default(1.1),
    /** Calls the canary must serve on queries both nodes ran before its latency ratio counts. */
    minCanaryCalls: z.number().int().min(1).default(50),
    /**
     * Added to both nodes' per-query means before the ratio: the per-statement cost outside
     * execution (network round trip, PgBouncer) every client pays anyway. Without it a primary-key
     * lookup taking 20 µs instead of 10 µs on a canary whose buffers are still cold reads as
     * "+100 %", though the client sees a few percent.
     */
    canaryLatencyFloorMs: z.number().min(0).max(1000).default(0.1),
  })
  .strict();

export type GateThresholds = z.output<typeof GateThresholdsSchema>;
export const DEFAULT_GATE_THRESHOLDS: GateThresholds = GateThresholdsSchema.parse({});

export interface GateCheck {
  name: "tps" | "p99" | "canary_latency_ratio";
  /** Which measurement: tps, latencyP99 (per transaction), statementP99, or the ratio. */
  metric: string;
  baseline: number | null;
  measured: number | null;
  /** Percent change vs baseline (or (ratio − 1)·100). */
  changePct: number | null;
  /** The limit in the same unit as changePct. */
  limitPct: number;
  pass: boolean;
  note: string;
}

export interface GateVerdict {
  pass: boolean;
  checks: GateCheck[];
  /** Why it failed, in words; null when it passed. */
  reason: string | null;
}

const pct = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(1)} %`;

function relative(baseline: number, measured: number): number | null {
  return baseline > 0 ? ((measured - baseline) / baseline) * 100 : null;
}

/**
 * The result window against the baseline on throughput (tps; qps for short samples, see
 * throughputMetricFor) and on `latencyMetric` (latencyP99 for a single node; statementP99 for a
 * split-traffic window, see combinedSubWindow). A window without any rate cannot vouch for the
 * change: it fails.
 */
export function baselineGate(
  baseline: readonly SubWindow[],
  result: readonly SubWindow[],
  latencyMetric: Extract<Metric, "latencyP99" | "statementP99">,
  thresholds: GateThresholds,
  throughput: ThroughputMetric = "tps",
): GateVerdict {
  const checks: GateCheck[] = [];
  const bTps = valuesOf(baseline, throughput);
  const rTps = valuesOf(result, throughput);
  if (rTps.length === 0) {
    return {
      pass: false,
      checks,
      reason: "no rates measured in the window (no traffic, or a counter reset on every sample): the change cannot be vouched for",
    };
  }
  const baseTps = bTps.length ? mean(bTps) : null;
  const measuredTps = mean(rTps);
  const tpsChange = baseTps !== null ? relative(baseTps, measuredTps) : null;
  const tpsPass = tpsChange === null || tpsChange >= -thresholds.maxTpsDropPct;
  checks.push({
    name: "tps",
    metric: throughput,
    baseline: baseTps,
    measured: measuredTps,
    changePct: tpsChange,
    limitPct: -thresholds.maxTpsDropPct,
    pass: tpsPass,
    note: tpsChange === null ? `baseline had no ${throughput}: nothing to compare` : `${throughput} ${pct(tpsChange)} (limit −${thresholds.maxTpsDropPct} %)`,
  });

  const bLat = valuesOf(baseline, latencyMetric);
  const rLat = valuesOf(result, latencyMetric);
  const baseLat = bLat.length ? mean(bLat) : null;
  const measuredLat = rLat.length ? mean(rLat) : null;
  const latChange = baseLat !== null && measuredLat !== null ? relative(baseLat, measuredLat) : null;
  const latPass = latChange === null || latChange <= thresholds.maxP99IncreasePct;
  checks.push({
    name: "p99",
    metric: latencyMetric,
    baseline: baseLat,
    measured: measuredLat,
    changePct: latChange,
    limitPct: thresholds.maxP99IncreasePct,
    pass: latPass,
    note: latChange === null ? "p99 not measured on one side: not compared" : `p99 ${pct(latChange)} (limit +${thresholds.maxP99IncreasePct} %)`,
  });

  const failed = checks.filter((c) => !c.pass);
  return { pass: failed.length === 0, checks, reason: failed.length ? `vs baseline: ${failed.map((c) => c.note).join("; ")}` : null };
}

export interface QueryComparison {
  queryid: string;
  primaryCalls: number;
  canaryCalls: number;
  primaryMeanMs: number;
  canaryMeanMs: number;
  /** (canary mean + floor) / (primary mean + floor). */
  ratio: number;
}

export interface CanaryComparison {
  /** Calls-weighted geometric mean of canary/primary mean latency; null without common queries. */
  ratio: number | null;
  /** Interval of the ratio from the per-sub-window ratios (null below two sub-windows). */
  interval: [number, number] | null;
  commonQueries: number;
  canaryCalls: number;
  primaryCalls: number;
  /** The heaviest common queries, for the timeline. */
  queries: QueryComparison[];
}

interface Totals {
  calls: number;
  totalMs: number;
}

function totalsByQuery(windows: readonly SubWindow[]): Map<string, Totals> {
  const out = new Map<string, Totals>();
  for (const w of windows) {
    for (const q of w.queries) {
      const t = out.get(q.queryid) ?? { calls: 0, totalMs: 0 };
      t.calls += q.calls;
      t.totalMs += q.calls * q.meanMs;
      out.set(q.queryid, t);
    }
  }
  return out;
}

/** Weighted geometric mean of per-query ratios (each mean plus the floor); weight = calls on both nodes. */
function weightedRatio(primary: Map<string, Totals>, canary: Map<string, Totals>, floorMs: number): { ratio: number | null; rows: QueryComparison[] } {
  const rows: QueryComparison[] = [];
  let logSum = 0;
  let weight = 0;
  for (const [queryid, c] of canary) {
    const p = primary.get(queryid);
    if (!p || p.calls <= 0 || c.calls <= 0) continue;
    const pMean = p.totalMs / p.calls;
    const cMean = c.totalMs / c.calls;
    if (!(pMean + floorMs > 0) || !(cMean + floorMs > 0)) continue;
    const ratio = (cMean + floorMs) / (pMean + floorMs);
    const w = p.calls + c.calls;
    logSum += w * Math.log(ratio);
    weight += w;
    rows.push({ queryid, primaryCalls: p.calls, canaryCalls: c.calls, primaryMeanMs: pMean, canaryMeanMs: cMean, ratio });
  }
  rows.sort((a, b) => b.canaryCalls + b.primaryCalls - (a.canaryCalls + a.primaryCalls) || (a.queryid < b.queryid ? -1 : 1));
  return { ratio: weight > 0 ? Math.exp(logSum / weight) : null, rows };
}

/** Per-query latency of canary vs primary over the same sub-windows (same queries, same time). */
export function compareCanary(primary: readonly SubWindow[], canary: readonly SubWindow[], floorMs = DEFAULT_GATE_THRESHOLDS.canaryLatencyFloorMs): CanaryComparison {
  const p = totalsByQuery(primary);
  const c = totalsByQuery(canary);
  const { ratio, rows } = weightedRatio(p, c, floorMs);
  const perWindow: number[] = [];
  const n = Math.min(primary.length, canary.length);
  for (let i = 0; i < n; i++) {
    const r = weightedRatio(totalsByQuery([primary[i]!]), totalsByQuery([canary[i]!]), floorMs).ratio;
    if (r !== null) perWindow.push(Math.log(r));
  }
  const logInterval = meanInterval(perWindow);
  const interval: [number, number] | null =
    logInterval.halfWidth !== null ? [Math.exp(logInterval.mean - logInterval.halfWidth), Math.exp(logInterval.mean + logInterval.halfWidth)] : null;
  return {
    ratio,
    interval,
    commonQueries: rows.length,
    canaryCalls: rows.reduce((s, r) => s + r.canaryCalls, 0),
    primaryCalls: rows.reduce((s, r) => s + r.primaryCalls, 0),
    queries: rows.slice(0, 10),
  };
}

/**
 * Canary vs primary. Too few canary calls on common queries is not evidence either way: an
 * intermediate step passes with a note, the last step before the switchover fails (no evidence,
 * no promotion).
 */
export function canaryGate(comparison: CanaryComparison, thresholds: GateThresholds, finalStep: boolean): GateVerdict {
  const limitPct = (thresholds.maxCanaryLatencyRatio - 1) * 100;
  const enough = comparison.ratio !== null && comparison.canaryCalls >= thresholds.minCanaryCalls;
  if (!enough) {
    const why = `the canary served ${comparison.canaryCalls} calls of ${comparison.commonQueries} queries both nodes ran (need ${thresholds.minCanaryCalls})`;
    const check: GateCheck = {
      name: "canary_latency_ratio",
      metric: "canary/primary per-query mean latency",
      baseline: 1,
      measured: comparison.ratio,
      changePct: comparison.ratio !== null ? (comparison.ratio - 1) * 100 : null,
      limitPct,
      pass: !finalStep,
      note: finalStep ? `not enough evidence to promote: ${why}` : `not judged at this step: ${why}`,
    };
    return { pass: check.pass, checks: [check], reason: check.pass ? null : `canary vs primary: ${check.note}` };
  }
  const ratio = comparison.ratio!;
  const pass = ratio <= thresholds.maxCanaryLatencyRatio;
  const check: GateCheck = {
    name: "canary_latency_ratio",
    metric: "canary/primary per-query mean latency",
    baseline: 1,
    measured: ratio,
    changePct: (ratio - 1) * 100,
    limitPct,
    pass,
    note: `canary latency ${pct((ratio - 1) * 100)} vs primary over ${comparison.commonQueries} common queries (${comparison.canaryCalls} canary calls; limit +${limitPct.toFixed(0)} %)`,
  };
  return { pass, checks: [check], reason: pass ? null : `canary vs primary: ${check.note}` };
}

/** Both verdicts as one: every check listed, every failure named. */
export function combineVerdicts(...verdicts: GateVerdict[]): GateVerdict {
  const failed = verdicts.filter((v) => !v.pass);
  return {
    pass: failed.length === 0,
    checks: verdicts.flatMap((v) => v.checks),
    reason: failed.length ? failed.map((v) => v.reason).join("; ") : null,
  };
}
