/**
 * What the cron loop decided for one target on one tick, as the tick report, the log line, the
 * Durable Object's `lastDecision` (GET /api/status) and the started run's cause show it. Pure
 * helpers that read an analysis (src/core/analysis) into that record; the I/O that acts on it is
 * src/loop/decide-target.ts.
 *
 *   started    the rules concluded should_act and the Durable Object started the run
 *   refused    the rules concluded should_act but the object said no (busy, cooldown): normal
 *   held       an action is ready but a rule holds it back (action_blocked: cooldown, rollout_active)
 *   no_action  nothing degraded enough, or confidence too low
 *   skipped    no decision this tick: the collect failed, or too little history to judge
 *   failed     the decision step itself failed (database, analysis); other targets go on
 */
import type { Analysis } from "../core/analysis/analyze";
import type { Blocked } from "../core/analysis/decision";
import type { FactMap } from "../core/detect/facts";
import type { RolloutAction } from "../core/rollout/run-state";

export type TickDecisionStatus = "started" | "refused" | "held" | "no_action" | "skipped" | "failed";

export interface CusumState {
  status: "monitoring" | "learning_baseline";
  /** S at the newest point, in σ units. */
  statistic: number;
  /** Alarm threshold h. */
  h: number;
  degraded: boolean;
}

export interface TickDecision {
  /** The tick (ms since the epoch). */
  at: number;
  status: TickDecisionStatus;
  /** One sentence: what happened and why. */
  why: string;
  /** The rules' should_act(Action) conclusions, sorted. */
  should_act: string[];
  /** The action asked of the Durable Object (after precedence), started or refused. */
  action: RolloutAction | null;
  /** The run started, or the one that made the object refuse. */
  run_id: string | null;
  /** The Durable Object's answer when it refused. */
  refused: { reason: string; message: string; cooldown_left_seconds: number } | null;
  /** Ready actions a rule held back. */
  blocked: Blocked[];
  /** The rules' suppress_action(): within the cooldown after the last run (null: no analysis ran). */
  suppress_action: boolean | null;
  /** Detection confidence (the seed's score), null when no analysis ran. */
  confidence: number | null;
  /** What fired: cusum(tps), e-divisive(tps), usl, seasonal, query_regression(…). */
  detectors: string[];
  /** Each watched metric's CUSUM at this tick. */
  cusum: Record<string, CusumState>;
  /** The facts the rules saw, kept when an action was asked for: replay with `pg2une rules`. */
  facts: FactMap | null;
}

/** Regressed queries named in `detectors` at most (the rest are counted). */
export const MAX_NAMED_REGRESSIONS = 5;

export function cusumStates(analysis: Analysis): Record<string, CusumState> {
  return Object.fromEntries(
    analysis.report.cusum.map((c) => [c.metric, { status: c.status, statistic: Math.round(c.statistic * 100) / 100, h: c.h, degraded: c.degraded }]),
  );
}

/** The detectors behind this analysis' confidence and candidates, in words an operator greps for. */
export function detectorsOf(analysis: Analysis): string[] {
  const { report } = analysis;
  const out: string[] = [];
  for (const c of report.cusum) if (c.degraded) out.push(`cusum(${c.metric}, S=${c.statistic.toFixed(1)} > h=${c.h})`);
  for (const [predicate, args] of analysis.facts.map((f) => [f.pred, f.args] as const)) {
    if (predicate === "otava_change_point") out.push(`e-divisive(${String(args[0])}, magnitude ${Number(args[1]).toFixed(2)})`);
  }
  if (report.confidence.components.usl > 0 && report.usl.status === "fitted") out.push(`usl(deviation ${report.usl.current.deviation.toFixed(2)})`);
  if (report.confidence.components.seasonal > 0) out.push("seasonal(outside band)");
  const regressions = report.query_regressions;
  for (const r of regressions.slice(0, MAX_NAMED_REGRESSIONS)) out.push(`query_regression(${r.queryid}, ${r.load}, +${r.pct}%)`);
  if (regressions.length > MAX_NAMED_REGRESSIONS) out.push(`query_regression(… ${regressions.length - MAX_NAMED_REGRESSIONS} more)`);
  return out;
}

/**
 * Too little history to judge: every watched metric's CUSUM is still learning its reference
 * window (fewer valid points since the baseline start — history start, last promotion or
 * workload shift — than the reference holds). Then nothing is decided at all.
 */
export function learningBaseline(analysis: Analysis): boolean {
  return analysis.report.cusum.length > 0 && analysis.report.cusum.every((c) => c.status === "learning_baseline");
}

/** A record with no analysis behind it (skipped or failed before analysing). */
export function decisionWithoutAnalysis(at: number, status: "skipped" | "failed", why: string): TickDecision {
  return { at, status, why, should_act: [], action: null, run_id: null, refused: null, blocked: [], suppress_action: null, confidence: null, detectors: [], cusum: {}, facts: null };
}
