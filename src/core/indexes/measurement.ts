/**
 * Did the index make its queries faster? From two cumulative pg_stat_statements readings we get
 * the window's calls, mean and standard deviation (the cumulative moments subtract); the verdict
 * compares the window mean before the build with the window mean after it.
 *
 * One definition note: src/core/metrics (the metrics pipeline) derives the same per-query
 * window mean from stored samples; when it lands, `statementWindow` should defer to it.
 *
 * @example
 *   const w = statementWindow(before, after); // { calls: 120, meanMs: 0.08, stddevMs: 0.02 }
 *   judgeIndex({ calls: 100, meanMs: 3.1 }, w, t); // { verdict: "improved", improvementPct: 97.4, keep: true }
 */
import type { IndexAdvisorThresholds } from "./thresholds";

export interface StatementCounters {
  queryId: string;
  calls: number;
  totalExecMs: number;
  /** Population standard deviation pg_stat_statements keeps (stddev_exec_time). */
  stddevExecMs: number;
}

export interface WindowStats {
  calls: number;
  meanMs: number;
  stddevMs: number | null;
}

/** Window statistics between two readings of one statement; null after a reset or with no calls. */
export function statementWindow(earlier: StatementCounters | undefined, later: StatementCounters | undefined): WindowStats | null {
  if (!later) return null;
  const e = earlier ?? { queryId: later.queryId, calls: 0, totalExecMs: 0, stddevExecMs: 0 };
  const calls = later.calls - e.calls;
  const total = later.totalExecMs - e.totalExecMs;
  if (calls <= 0 || total < 0) return null; // no calls, or the counters were reset in between
  const meanMs = total / calls;
  const sumSq = (c: StatementCounters) => (c.stddevExecMs ** 2 + (c.calls ? (c.totalExecMs / c.calls) ** 2 : 0)) * c.calls;
  const variance = (sumSq(later) - sumSq(e)) / calls - meanMs ** 2;
  return { calls, meanMs, stddevMs: variance >= 0 ? Math.sqrt(variance) : null };
}

/** Calls-weighted mean over several statements' windows (an index may serve several queries). */
export function combineWindows(windows: ReadonlyArray<WindowStats | null>): WindowStats | null {
  const present = windows.filter((w): w is WindowStats => w !== null && w.calls > 0);
  const calls = present.reduce((s, w) => s + w.calls, 0);
  if (calls === 0) return null;
  return { calls, meanMs: present.reduce((s, w) => s + w.meanMs * w.calls, 0) / calls, stddevMs: null };
}

export type MeasuredVerdict = "improved" | "not_improved" | "unmeasured";

export interface IndexJudgement {
  verdict: MeasuredVerdict;
  improvementPct: number | null;
  keep: boolean;
  reason: string;
}

export function judgeIndex(
  before: WindowStats | null,
  after: WindowStats | null,
  t: Pick<IndexAdvisorThresholds, "minMeasuredImprovementPct" | "minCallsPerWindow" | "keepUnmeasured">,
): IndexJudgement {
  const enough = (w: WindowStats | null): w is WindowStats => w !== null && w.calls >= t.minCallsPerWindow;
  if (!enough(before) || !enough(after)) {
    const which = !enough(before) ? "before" : "after";
    return {
      verdict: "unmeasured",
      improvementPct: null,
      keep: t.keepUnmeasured,
      reason: `fewer than minCallsPerWindow (${t.minCallsPerWindow}) calls in the ${which} window: effect not measured; ${t.keepUnmeasured ? "kept (keepUnmeasured)" : "dropped (keepUnmeasured is off)"}`,
    };
  }
  const improvementPct = before.meanMs > 0 ? ((before.meanMs - after.meanMs) / before.meanMs) * 100 : 0;
  const fmt = (ms: number) => `${ms.toFixed(3)} ms`;
  if (improvementPct >= t.minMeasuredImprovementPct) {
    return { verdict: "improved", improvementPct, keep: true, reason: `window mean ${fmt(before.meanMs)} → ${fmt(after.meanMs)} (−${improvementPct.toFixed(1)} %)` };
  }
  return {
    verdict: "not_improved",
    improvementPct,
    keep: false,
    reason: `window mean ${fmt(before.meanMs)} → ${fmt(after.meanMs)} (${improvementPct >= 0 ? "−" : "+"}${Math.abs(improvementPct).toFixed(1)} %), below minMeasuredImprovementPct ${t.minMeasuredImprovementPct} %`,
  };
}
