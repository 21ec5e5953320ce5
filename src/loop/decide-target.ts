/**
 * The decision step of a cron tick for one target (DESIGN.md "Data flow, one cron tick", 3–4):
 *
 *   the target's Durable Object status()                   rollout state, busy, last run, cooldown
 *   → analyzeTarget(db, name, { now, rollout, program })   detection facts + rollout facts → rules
 *   → should_act(Action) → chooseAction (holistic > knobs > queries)
 *   → DO.start(action, { mode: the target's, trigger "auto", cause })
 *
 * Nothing here throws: a refused start (busy, cooldown) is a normal outcome and is reported; a
 * failing database or analysis is reported as "failed" for this target only. No decision is made
 * when this tick's collect failed or while detection is still learning its baselines.
 *
 * The Durable Object is the single writer: two ticks that both decide to act start one run, the
 * other is refused (busy) — see test/worker/decision-loop.test.ts.
 *
 * @example
 *   const decision = await decideForTarget(env, db, target, { tickMs, collect, program: decisionProgram(), detectConfig });
 *   decision.status; // "started" | "refused" | "held" | "no_action" | "skipped" | "failed"
 */
import { analyzeTarget, rolloutInputOf } from "../analysis/analyze-target";
import type { Program } from "../core/datalog";
import type { DetectConfig } from "../core/detect/config";
import type { RunCause } from "../core/rollout/run-state";
import { chooseAction } from "../decide/choose-action";
import { cusumStates, decisionWithoutAnalysis, detectorsOf, learningBaseline, type TickDecision } from "../decide/tick-decision";
import type { PollOutcome } from "../metrics/poll-runner";
import { rolloutStub } from "../rollout/stub";
import type { RolloutStatus } from "../rollout/target-rollout";
import type { Db } from "../store/db";
import type { Target } from "../store/targets";
import { startOptionsFor } from "./start-options";

export interface DecideOptions {
  /** The tick's scheduled time (ms since the epoch). */
  tickMs: number;
  /** How this tick's sample came about: a failed collect means no decision. */
  collect: PollOutcome;
  program: Program;
  detectConfig: DetectConfig;
  /**
   * The object's status as already read (default: read it now). A status read before another
   * caller started a run is exactly the race the object's refusal guards against.
   */
  status?: RolloutStatus;
  /** The clock (default Date.now): the rules' now(N) and the end of the history window. */
  now?: () => number;
}

export async function decideForTarget(env: Env, db: Db, target: Target, opts: DecideOptions): Promise<TickDecision> {
  const at = opts.tickMs;
  if (opts.collect.status === "failed") {
    return decisionWithoutAnalysis(at, "skipped", `no decision: this tick's collect failed (${opts.collect.error})`);
  }
  try {
    const stub = rolloutStub(env, target.name);
    const status = opts.status ?? (await stub.status());
    // The sample just stored carries the runner's clock, a little after the scheduled time.
    const now = Math.max(at, (opts.now ?? Date.now)());
    const { analysis, view } = await analyzeTarget(db, target.name, { now, rollout: rolloutInputOf(status), program: opts.program, config: opts.detectConfig });
    const cusum = cusumStates(analysis);
    const base = {
      at,
      should_act: analysis.decision.should_act,
      action: null,
      run_id: null,
      refused: null,
      blocked: analysis.decision.blocked,
      suppress_action: analysis.database.count("suppress_action") > 0,
      confidence: analysis.report.confidence.score,
      detectors: detectorsOf(analysis),
      cusum,
      facts: null,
    } satisfies Omit<TickDecision, "status" | "why">;

    if (learningBaseline(analysis)) {
      const since = analysis.report.baseline_start;
      const points = view.history.snapshots - since.index;
      const needed = opts.detectConfig.cusum.referenceSize + 1;
      const from = since.reason === "history_start" ? "in the history" : since.reason === "baseline_valid_from" ? "since the last promoted run" : "since the workload shift";
      return { ...base, should_act: [], blocked: [], status: "skipped", why: `no decision: too little history, ${points} snapshots ${from} (detection needs ${needed} to learn its baselines)` };
    }

    const { action, unknown } = chooseAction(analysis.decision.should_act);
    if (action === null) {
      const why = unknown.length > 0 ? `the rules concluded should_act(${unknown.join(", ")}), which is no rollout action` : analysis.decision.summary;
      return { ...base, status: analysis.decision.blocked.length > 0 ? "held" : "no_action", why };
    }

    const cause: RunCause = {
      source: "cron",
      tickAt: at,
      summary: analysis.decision.summary,
      confidence: analysis.report.confidence.score,
      detectors: base.detectors.slice(0, 50),
    };
    const workloadClass = analysis.report.workload.class;
    const started = await stub.start(action, startOptionsFor(target, "auto", { cause, ...(workloadClass ? { workloadClass } : {}) }));
    const facts = analysis.factMap;
    if (started.ok) {
      return { ...base, facts, action, run_id: started.runId, status: "started", why: `started ${action} (${target.mode}): ${analysis.decision.summary}` };
    }
    return {
      ...base,
      facts,
      action,
      run_id: started.runId,
      status: "refused",
      refused: { reason: started.reason, message: started.message, cooldown_left_seconds: started.cooldownLeftSeconds },
      why: `the rules said ${action} but the rollout refused (${started.reason}): ${started.message}`,
    };
  } catch (err) {
    return decisionWithoutAnalysis(at, "failed", `decision failed: ${String((err as Error).message ?? err)}`);
  }
}
