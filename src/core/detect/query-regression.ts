/**
 * Per-query regressions, with the seed's semantics (pg2une's query_regression.ex): a query's
 * mean execution time in the newest window is compared with the average of its window means over
 * the trailing baseline (6 hours, at least 5 windows). More than +20 % is a regression; it is
 * `same_load` when the window's calls are within ±50 % of the baseline's average calls (so the
 * query itself got slower), `changed_load` otherwise (more traffic may explain it).
 *
 * One addition to the seed (dexter's min_time idea): the slowdown must also cost at least
 * `minExtraTimeMs` of execution time in the window, (current − baseline mean) × calls. Otherwise a
 * BEGIN that ran once in 0.002 ms instead of 0.0012 ms is "+61 %": measured on a real cluster, the
 * collector's own BEGIN/COMMIT and other microsecond statements did exactly that every window.
 */
import { type QueryWindow, timeParser } from "./history";

export interface QueryRegressionConfig {
  /** How far back the rolling baseline reaches. */
  baselineWindowMs: number;
  /** Baseline windows (with a mean) required before a query is judged. */
  minBaselineWindows: number;
  /** Relative slowdown above which a query has regressed (0.20 = +20 %). */
  regressionThreshold: number;
  /** |calls − baseline calls| / baseline calls at or below this is the same load. */
  sameLoadThreshold: number;
  /** A regression must add at least this much execution time to the window (ms). */
  minExtraTimeMs: number;
}

export type LoadComparison = "same_load" | "changed_load";

export interface QueryRegression {
  queryid: string;
  load: LoadComparison;
  /** Slowdown in percent, rounded to one decimal as the seed did. */
  pct: number;
  snapshot_time: string;
  current_mean_ms: number;
  baseline_mean_ms: number;
  current_calls: number;
  baseline_calls: number;
  baseline_windows: number;
}

/**
 * Regressions of the queries seen in the newest window (`now`, default: the newest snapshot_time
 * among the windows). Windows without a mean (no calls) never count.
 */
export function detectQueryRegressions(
  windows: readonly QueryWindow[],
  config: QueryRegressionConfig,
  now?: number,
): QueryRegression[] {
  if (windows.length === 0) return [];
  // A loop, not Math.max(...): a 6 h history of 500 queries is 180 000 windows, more arguments
  // than a call can take.
  const timeOf = timeParser();
  let newest = now ?? -Infinity;
  if (now === undefined) for (const w of windows) newest = Math.max(newest, timeOf(w.snapshot_time));
  const byQuery = new Map<string, QueryWindow[]>();
  for (const w of windows) {
    const list = byQuery.get(w.queryid);
    if (list) list.push(w);
    else byQuery.set(w.queryid, [w]);
  }
  const regressions: QueryRegression[] = [];
  for (const [queryid, list] of byQuery) {
    const current = list.find((w) => timeOf(w.snapshot_time) === newest);
    if (!current || typeof current.mean_exec_time_ms !== "number") continue;
    const baseline = list.filter((w) => {
      const t = timeOf(w.snapshot_time);
      return t < newest && t >= newest - config.baselineWindowMs && typeof w.mean_exec_time_ms === "number";
    });
    if (baseline.length < config.minBaselineWindows) continue;
    const baselineMean = baseline.reduce((s, w) => s + w.mean_exec_time_ms!, 0) / baseline.length;
    const baselineCalls = baseline.reduce((s, w) => s + w.calls, 0) / baseline.length;
    if (!(baselineMean > 0)) continue;
    const slowdown = (current.mean_exec_time_ms - baselineMean) / baselineMean;
    if (!(slowdown > config.regressionThreshold)) continue;
    if (!((current.mean_exec_time_ms - baselineMean) * current.calls >= config.minExtraTimeMs)) continue;
    const volumeChange = baselineCalls > 0 ? Math.abs(current.calls - baselineCalls) / baselineCalls : 1;
    regressions.push({
      queryid,
      load: volumeChange <= config.sameLoadThreshold ? "same_load" : "changed_load",
      pct: Math.round(slowdown * 1000) / 10,
      snapshot_time: current.snapshot_time,
      current_mean_ms: current.mean_exec_time_ms,
      baseline_mean_ms: baselineMean,
      current_calls: current.calls,
      baseline_calls: baselineCalls,
      baseline_windows: baseline.length,
    });
  }
  return regressions.sort((a, b) => b.pct - a.pct);
}
