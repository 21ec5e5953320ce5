/**
 * analyzeTarget: one definition of "analyse this target now", used by GET /api/analysis and by
 * the cron decision loop. It only does I/O and composition: read the bounded recent history
 * (src/store/analysis-history.ts), then the pure analysis (src/core/analysis: detect → facts +
 * the Durable Object's rollout facts → rules/pg2une.dl → decision with its derivation tree).
 *
 * The rollout state is passed in, never read here: the Durable Object owns it, and the cron loop
 * already holds it when it asks (see `rolloutInputOf` for the mapping from `status()`).
 *
 * @example
 *   const rollout = rolloutInputOf(await rolloutStub(env, "default").status());
 *   const { analysis, view } = await analyzeTarget(db, "default", { now: Date.now(), rollout, program: decisionProgram() });
 *   if (analysis.decision.should_act.length) …; // view is what /api/analysis serves
 */
import { analysisView, type Analysis, type AnalysisView, analyze, type RolloutInput } from "../core/analysis";
import type { Program } from "../core/datalog";
import { DEFAULT_DETECT_CONFIG, type DetectConfig } from "../core/detect";
import { type AnalysisLimits, DEFAULT_ANALYSIS_LIMITS, loadAnalysisHistory } from "../store/analysis-history";
import type { Db } from "../store/db";

export interface AnalyzeTargetOptions {
  /** ms since the epoch: the rules' now(N) and the end of the history window. */
  now: number;
  rollout: RolloutInput;
  limits?: AnalysisLimits;
  config?: DetectConfig;
  /**
   * The decision rules: in the Worker `decisionProgram()` (src/decide/rules.ts, rules/pg2une.dl as
   * deployed); Node tools (the analysis benchmark) parse the file themselves, since the .dl
   * text-module import exists only in the Worker bundle.
   */
  program: Program;
}

export interface TargetAnalysis {
  analysis: Analysis;
  view: AnalysisView;
}

export async function analyzeTarget(db: Db, target: string, opts: AnalyzeTargetOptions): Promise<TargetAnalysis> {
  const config = opts.config ?? DEFAULT_DETECT_CONFIG;
  const history = await loadAnalysisHistory(db, target, {
    nowMs: opts.now,
    limits: opts.limits ?? DEFAULT_ANALYSIS_LIMITS,
    bucketMs: config.seasonal.bucketMs,
    seasonalMetrics: config.seasonal.metrics,
  });
  const analysis = analyze(history.input, { nowMs: opts.now, rollout: opts.rollout, program: opts.program, config });
  const view = analysisView(analysis, {
    target,
    history: history.meta,
    queryText: history.queryText,
    uslWarning: config.usl.warningDeviation,
    highConfidence: config.confidence.highConfidence,
  });
  return { analysis, view };
}

/**
 * The Durable Object's status() (src/rollout/target-rollout.ts RolloutStatus) as the analysis
 * reads it. Times are ms since the epoch on both sides (the object stores Date.now() values;
 * rolloutFacts turns them into the rules' seconds). `busy` counts as an active rollout even in a
 * resting state (a failed run still retrying its rollback); the last promotion restarts the
 * detection baselines.
 */
export function rolloutInputOf(status: {
  state: string;
  busy?: boolean;
  lastOptimizationTime: number | null;
  lastPromotionTime?: number | null;
  cooldownSeconds?: number;
}): RolloutInput {
  return {
    state: status.state,
    lastOptimizationTime: status.lastOptimizationTime,
    ...(status.busy !== undefined ? { busy: status.busy } : {}),
    ...(status.cooldownSeconds !== undefined ? { cooldownSeconds: status.cooldownSeconds } : {}),
    ...(status.lastPromotionTime !== undefined ? { baselineValidFrom: status.lastPromotionTime } : {}),
  };
}
