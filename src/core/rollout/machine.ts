/**
 * The rollout state machine (DESIGN.md, "Rollout"), pure:
 *
 *   startRun(request, runId, now)          → the first transition
 *   advance(state, input, now)             → the next one, from the outcome of the current step
 *   effectOf(state)                        → what the shell must do for the current step
 *
 * A transition says what the run looks like now, which timeline events to record, what to do
 * next (runner commands with deterministic commandIds, a history read, an optimizer call) and
 * when. The Durable Object persists the transition, then performs its effect, then feeds the
 * outcome back. The same state always yields the same effect and commandIds, so performing a
 * step twice (a crash between sending and persisting the answer) is harmless: the runner's
 * journal answers a repeated commandId with its first result.
 *
 * Paths (phase in brackets):
 *   knobs     read_config → load_history → [sample baseline ×n] [capturing_baseline]
 *             → propose [optimizing] → direct | canary
 *   direct    apply → sample ×n → gate → kept | rollback: (resolve apply) → restore   [direct]
 *   canary    launch → configure → { route p → sample ×n → gate } for p in 5, 25, 50
 *             → switchover → sample (verify) ×n → promoted
 *             | rollback: (resolve switchover) → route_back → teardown              [canary]
 *   queries   hypo_indexes [optimizing] → create_index [direct] (the runner measures, keeps or
 *             drops each index) | rollback: resolve create_index
 *   holistic  queries, then knobs
 *
 * A forward step the runner does not answer by its deadline, or refuses, rolls the run back.
 * Rollback steps never give up: they are retried with backoff, and after rollbackMaxAttempts
 * the run is reported failed while the retries go on at the slowest pace.
 */
import { classFor, workloadFeatures, workloadScore } from "../detect/workload-class";
import { DEFAULT_DETECT_CONFIG } from "../detect/config";
import type { MetricsItem, RawSample } from "../metrics";
import type { KnobProposal } from "../optimize/tune-knobs";
import { commandSpec } from "../../protocol/commands/index";
import { baselineGate, canaryGate, combineVerdicts, compareCanary, GateThresholdsSchema } from "./gates";
import { planKnobChange, settingsOf, type ProposalRequest } from "./knob-plan";
import { resultOf, sampleOf } from "./results";
import {
  StartRequestSchema,
  isFinished,
  type CanaryStepRecord,
  type Outcome,
  type RunState,
  type StartRequest,
  type WindowState,
} from "./run-state";
import { combinedSubWindow, compactSample, MAX_QUERIES_PER_SUBWINDOW, subWindowBetween, subWindowOfItem, type SubWindow } from "./series";
import { commandIdFor, describeStep, isRollbackStep, phaseOfStep, stepKey, type ResolvableStep, type RolloutPhase, type Step, type WindowPurpose } from "./steps";
import { resultSummary } from "./summary";
import { rollbackBackoffMs, RolloutTimingsSchema, sampleCount, stepTimeoutFor, throughputMetricFor, type RolloutTimingsInput } from "./timings";

// ── what the shell does ─────────────────────────────────────────────────────────────────────

export interface RunnerCommand {
  commandId: string;
  type: string;
  payload: Record<string, unknown>;
}

export type Effect =
  | {
      kind: "runner";
      commands: RunnerCommand[];
      /** Send all at once (samples of two nodes in one window) or one after another. */
      parallel: boolean;
    }
  | { kind: "load_history"; since: number; until: number }
  | { kind: "propose"; request: ProposalRequest };

export type StepOutput =
  | { kind: "runner"; results: unknown[] }
  | { kind: "history"; items: MetricsItem[]; workloadClass: string | null }
  | { kind: "proposal"; proposal: KnobProposal; note: string | null };

export interface StepError {
  /**
   * unreachable: no answer (network, 5xx, timeout) — may be re-sent with the same commandId;
   * refused: a definitive 4xx; invalid_answer: an answer that fails its schema or signature;
   * not_implemented: the runner (or this build) lacks the command; internal: the shell failed.
   */
  kind: "unreachable" | "refused" | "invalid_answer" | "not_implemented" | "internal";
  message: string;
  reason?: string | undefined;
}

export type RunInput =
  | { kind: "done"; stepKey: string; attempt: number; output: StepOutput }
  | { kind: "failed"; stepKey: string; attempt: number; error: StepError }
  /**
   * The object was away (evicted, the host down) past the current step's deadline (plus one
   * resume-check interval, the normal delay of a resume after an eviction): a
   * measurement window with a hole that long proves nothing, and traffic may have been split
   * with nobody watching, so a forward step rolls back instead of carrying on.
   */
  | { kind: "overdue"; stepKey: string; attempt: number };

export interface RunEventDraft {
  kind: "state" | "step" | "measurement" | "gate" | "retry" | "rollback" | "outcome" | "note" | "error";
  state: RolloutPhase;
  message: string;
  data?: Record<string, unknown>;
}

export interface Transition {
  state: RunState;
  events: RunEventDraft[];
  effect: Effect | null;
  /** When the effect is due (epoch ms); null when the run is finished. */
  due: number | null;
}

// ── start ───────────────────────────────────────────────────────────────────────────────────

/** A 31-bit seed from the run id (FNV-1a), so a run's optimizer call is reproducible. */
export function seedOf(runId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) {
    h ^= runId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 0x7fffffff;
}

export interface StartDefaults {
  /** From the Worker's ROLLOUT_TIMINGS; the request's own timings override these. */
  timings?: RolloutTimingsInput;
}

export function startRun(raw: StartRequest, runId: string, now: number, defaults: StartDefaults = {}): Transition {
  const request = StartRequestSchema.parse(raw);
  const timings = RolloutTimingsSchema.parse({ ...defaults.timings, ...request.timings });
  const first: Step = request.action === "knobs" ? { kind: "read_config" } : { kind: "hypo_indexes" };
  const state: RunState = {
    version: 1,
    runId,
    action: request.action,
    mode: request.mode,
    trigger: request.trigger,
    cause: request.cause ?? null,
    target: request.target,
    timings,
    thresholds: GateThresholdsSchema.parse(request.thresholds ?? {}),
    indexThresholds: request.indexThresholds ?? {},
    forceConfig: request.forceConfig ?? null,
    seed: seedOf(runId),
    createdAt: now,
    phase: phaseOfStep(first)!,
    step: first,
    attempt: 1,
    due: now,
    deadline: null,
    tries: 0,
    settings: null,
    serverVersion: null,
    historyUntil: null,
    workloadClass: request.workloadClass ?? null,
    workloadClassSource: request.workloadClass ? "detection" : null,
    baseline: null,
    baselineSource: null,
    window: null,
    proposal: null,
    plan: null,
    sent: { apply: false, launch: false, switchover: false, createIndex: false },
    applied: null,
    canary: { launch: null, configure: null, steps: [], switchover: null },
    indexes: null,
    indexQueryIds: null,
    gates: [],
    result: null,
    rollback: null,
    outcome: null,
    reason: null,
    finishedAt: null,
    notes: [],
  };
  const events: RunEventDraft[] = [
    {
      kind: "state",
      state: state.phase,
      message: `run started: ${request.action} in ${request.mode} mode (${request.trigger})${request.forceConfig ? ", configuration forced by the request" : ""}${request.cause ? `, by the cron loop: ${request.cause.summary}` : ""}`,
      data: { action: request.action, mode: request.mode, trigger: request.trigger, timings, ...(request.cause ? { cause: request.cause } : {}) },
    },
  ];
  const entered = enter(state, first, now, events);
  return finish(entered, events);
}

// ── the effect of the current step ──────────────────────────────────────────────────────────

function cmd(state: RunState, type: string, payload: Record<string, unknown>, part?: string, key = stepKey(state.step), attempt = state.attempt): RunnerCommand {
  return { commandId: commandIdFor(state.runId, key, attempt, part), type, payload };
}

function runner(commands: RunnerCommand[], parallel = false): Effect {
  return { kind: "runner", commands, parallel };
}

/** The command a resolvable step sent (same commandId: its first attempt is its only one). */
function originalCommand(state: RunState, of: ResolvableStep): RunnerCommand {
  switch (of) {
    case "apply":
      return cmd(state, "apply_config", applyPayload(state), undefined, "apply", 1);
    case "switchover":
      return cmd(state, "switchover", {}, undefined, "switchover", 1);
    case "create_index":
      return cmd(state, "create_index", createIndexPayload(state), undefined, "create-index", 1);
  }
}

function applyPayload(state: RunState): Record<string, unknown> {
  return { settings: settingsOf(state.plan?.apply ?? []), restartKnobs: "skip" };
}

function createIndexPayload(state: RunState): Record<string, unknown> {
  const recs = state.indexes?.recommendations ?? [];
  return {
    indexes: recs.map((r) => ({ schema: r.schema, table: r.table, columns: r.columns, queryIds: queryIdsOf(state, r.name) })),
    thresholds: state.indexThresholds,
  };
}

function queryIdsOf(state: RunState, indexName: string): string[] {
  return state.indexQueryIds?.[indexName] ?? [];
}

export function effectOf(state: RunState): Effect | null {
  const step = state.step;
  switch (step.kind) {
    case "read_config":
      return runner([cmd(state, "read_config", {})]);
    case "load_history":
      return { kind: "load_history", since: (state.historyUntil ?? state.createdAt) - state.timings.baselineLookbackMs, until: state.historyUntil ?? state.createdAt };
    case "sample": {
      const nodes = step.purpose === "canary" ? (["primary", "canary"] as const) : (["primary"] as const);
      return runner(
        nodes.map((node) => cmd(state, "collect", { node, target: state.target.name, top_statements: MAX_QUERIES_PER_SUBWINDOW }, node)),
        true,
      );
    }
    case "propose":
      return {
        kind: "propose",
        request: {
          workloadClass: state.workloadClass ?? "mixed",
          totalRamMb: state.target.totalRamMb,
          cpus: state.target.cpus,
          storage: state.target.storage,
          serverMajor: majorOf(state.serverVersion),
          settings: state.settings ?? [],
          seed: state.seed,
        },
      };
    case "hypo_indexes":
      return runner([cmd(state, "hypo_indexes", { thresholds: state.indexThresholds })]);
    case "create_index":
      return runner([cmd(state, "create_index", createIndexPayload(state))]);
    case "apply":
      return runner([cmd(state, "apply_config", applyPayload(state))]);
    case "launch":
      return runner([cmd(state, "launch_canary", {})]);
    case "configure":
      return runner([cmd(state, "configure_canary", { settings: settingsOf(state.plan?.apply ?? []) })]);
    case "route": {
      const payload: Record<string, unknown> = { canary_pct: step.pct };
      if (state.timings.routeMeasureWindowMs !== null) payload.measure_window_ms = state.timings.routeMeasureWindowMs;
      return runner([cmd(state, "route_traffic", payload)]);
    }
    case "switchover":
      return runner([cmd(state, "switchover", {})]);
    case "resolve":
      return runner([originalCommand(state, step.of)]);
    case "restore": {
      const applied = state.applied ?? [];
      const commands: RunnerCommand[] = [];
      const toReset = applied.filter((k) => k.previous === null).map((k) => k.name);
      const toRewrite = Object.fromEntries(applied.filter((k) => k.previous !== null).map((k) => [k.name, k.previous!]));
      if (toReset.length) commands.push(cmd(state, "reset_config", { knobs: toReset }, "reset"));
      if (Object.keys(toRewrite).length) commands.push(cmd(state, "apply_config", { settings: toRewrite, restartKnobs: "skip" }, "rewrite"));
      return runner(commands);
    }
    case "route_back":
      return runner([cmd(state, "route_traffic", { canary_pct: 0 })]);
    case "teardown":
      return runner([cmd(state, "teardown_canary", {})]);
    case "done":
      return null;
  }
}

function majorOf(version: string | null): number {
  const m = version ? /^(\d+)/.exec(version) : null;
  return m ? Number(m[1]) : 15;
}

/** How long the runner may take for a step's commands (the longest of them). */
export function stepTimeoutOf(state: RunState, effect: Effect | null): number | null {
  if (!effect || effect.kind !== "runner" || isRollbackStep(state.step)) return null;
  const own = Math.max(0, ...effect.commands.map((c) => commandSpec(c.type)?.timeoutMs ?? 0));
  return stepTimeoutFor(state.timings, own || undefined);
}

// ── transitions ─────────────────────────────────────────────────────────────────────────────

function finish(state: RunState, events: RunEventDraft[]): Transition {
  return { state, events, effect: isFinished(state) ? null : effectOf(state), due: state.due };
}

/** Moves to `step` (due at `due`, default now), with a fresh attempt and deadline. */
function enter(state: RunState, step: Step, now: number, events: RunEventDraft[], due = now): RunState {
  const phase = state.rollback ? state.phase : (phaseOfStep(step) ?? state.phase);
  if (phase !== state.phase) events.push({ kind: "state", state: phase, message: `→ ${phase}` });
  const next: RunState = { ...state, phase, step, attempt: 1, tries: 0, due, deadline: null };
  if (step.kind === "apply") next.sent = { ...next.sent, apply: true };
  if (step.kind === "launch") next.sent = { ...next.sent, launch: true };
  if (step.kind === "switchover") next.sent = { ...next.sent, switchover: true };
  if (step.kind === "create_index") next.sent = { ...next.sent, createIndex: true };
  const timeout = stepTimeoutOf(next, effectOf(next));
  next.deadline = timeout === null ? null : due + timeout;
  if (step.kind !== "sample" || step.index === 0) events.push({ kind: "step", state: phase, message: describeStep(step), data: { step: stepKey(step) } });
  return next;
}

export function advance(state: RunState, input: RunInput, now: number): Transition {
  // A stale or repeated delivery (another attempt, a step already left behind) changes nothing.
  if (isFinished(state) || input.stepKey !== stepKey(state.step) || input.attempt !== state.attempt) return finish(state, []);
  const events: RunEventDraft[] = [];
  const s: RunState = { ...state, tries: state.tries + 1 };
  if (input.kind === "failed") return finish(onFailure(s, input.error, now, events), events);
  if (input.kind === "overdue") {
    if (isRollbackStep(state.step) || state.deadline === null || now <= state.deadline + state.timings.resumeCheckMs) return finish(state, []);
    const late = Math.round((now - state.deadline) / 1000);
    const reason = `the rollout was interrupted: ${stepKey(state.step)} resumed ${late} s after its deadline`;
    events.push({ kind: "error", state: state.phase, message: reason });
    return finish(beginRollback(s, reason, now, events), events);
  }
  try {
    return finish(onSuccess(s, input.output, now, events), events);
  } catch (err) {
    // An answer we cannot read is an answer we cannot trust: same as a refusal.
    return finish(onFailure(s, { kind: "invalid_answer", message: (err as Error).message }, now, events), events);
  }
}

function onFailure(state: RunState, error: StepError, now: number, events: RunEventDraft[]): RunState {
  const step = state.step;
  const what = `${describeStep(step)}: ${error.message}`;
  if (isRollbackStep(step)) return rollbackStepFailed(state, error, now, events);

  // History is optional: without it the baseline is measured live.
  if (step.kind === "load_history") {
    events.push({ kind: "note", state: state.phase, message: `snapshot history unavailable (${error.message}): measuring the baseline live` });
    return startWindow({ ...state, notes: [...state.notes, "baseline measured live: stored history could not be read"] }, "baseline", null, now, now, events);
  }
  const transient = error.kind === "unreachable";
  if (transient && state.deadline !== null && now + state.timings.retryDelayMs < state.deadline) {
    events.push({ kind: "retry", state: state.phase, message: `${what}; re-sending with the same commandId`, data: { tries: state.tries } });
    return { ...state, due: now + state.timings.retryDelayMs };
  }
  const timeout = stepTimeoutOf(state, effectOf(state));
  const reason = transient && timeout !== null ? `the runner did not answer ${stepKey(step)} within its step timeout (${Math.round(timeout / 1000)} s): ${error.message}` : what;
  events.push({ kind: "error", state: state.phase, message: reason, data: { step: stepKey(step), error } });
  return beginRollback(state, reason, now, events);
}

function rollbackStepFailed(state: RunState, error: StepError, now: number, events: RunEventDraft[]): RunState {
  const step = state.step;
  const rollback = state.rollback!;
  // Routing back is also part of the teardown: if the runner refuses it (no routing set up,
  // canary gone), the teardown still routes back first.
  if (step.kind === "route_back" && error.kind === "refused") {
    events.push({ kind: "note", state: state.phase, message: `route back refused (${error.message}); the teardown routes back itself` });
    return enter(state, { kind: "teardown" }, now, events);
  }
  // The original command was refused: it changed nothing, so there is nothing to undo for it.
  if (step.kind === "resolve" && error.kind === "refused") {
    events.push({ kind: "note", state: state.phase, message: `${step.of} was refused by the runner (${error.message}): it changed nothing` });
    if (step.of === "apply") return done(state, "rolled_back", rollback.reason, now, events, "the apply was refused: nothing was changed");
    if (step.of === "switchover") return enter(state, { kind: "route_back" }, now, events);
    return done({ ...state, indexes: state.indexes ? { ...state.indexes, records: [] } : null }, "rolled_back", rollback.reason, now, events);
  }
  const attempts = rollback.attempts + 1;
  const delay = rollbackBackoffMs(state.timings, attempts);
  let next: RunState = { ...state, rollback: { ...rollback, attempts }, due: now + delay };
  // Resolving re-sends the very same command; other rollback steps may take a new commandId.
  if (step.kind !== "resolve") next.attempt = state.attempt + 1;
  events.push({ kind: "retry", state: next.phase, message: `rollback step failed (attempt ${attempts}): ${describeStep(step)}: ${error.message}; retrying in ${Math.round(delay / 1000)} s`, data: { attempts, error } });
  if (attempts >= state.timings.rollbackMaxAttempts && !rollback.reportedFailed) {
    next = { ...next, phase: "failed", outcome: "failed", reason: `rollback could not complete after ${attempts} attempts (${error.message}); still retrying every ${Math.round(state.timings.rollbackRetryMaxMs / 1000)} s — the target may be half-changed: ${rollback.reason}`, rollback: { ...next.rollback!, reportedFailed: true } };
    events.push({ kind: "outcome", state: "failed", message: next.reason!, data: { outcome: "failed", rollbackPending: true } });
  }
  return next;
}

function beginRollback(state: RunState, reason: string, now: number, events: RunEventDraft[]): RunState {
  if (state.rollback) return state;
  const next: RunState = { ...state, rollback: { reason, startedAt: now, attempts: 0, reportedFailed: false }, window: null };
  const first = firstRollbackStep(next);
  if (!first) {
    events.push({ kind: "rollback", state: state.phase, message: `stopping: ${reason} (nothing was changed on the target)` });
    return done(next, "failed", reason, now, events, "nothing was changed on the target");
  }
  events.push({ kind: "rollback", state: state.phase, message: `rolling back: ${reason}`, data: { reason } });
  return enter(next, first, now, events);
}

/** The first compensating step for what was sent so far, or null when nothing changed. */
function firstRollbackStep(state: RunState): Step | null {
  const knobStarted = state.sent.apply || state.sent.launch;
  if (knobStarted && state.mode === "direct") {
    if (state.applied === null) return { kind: "resolve", of: "apply" };
    return state.applied.length ? { kind: "restore" } : null;
  }
  if (knobStarted && state.mode === "canary") {
    if (state.sent.switchover && state.canary.switchover === null) return { kind: "resolve", of: "switchover" };
    return { kind: "route_back" };
  }
  if (state.sent.createIndex && state.indexes?.records === null) return { kind: "resolve", of: "create_index" };
  return null;
}

function done(state: RunState, outcome: Outcome, reason: string | null, now: number, events: RunEventDraft[], note?: string): RunState {
  const phase: RolloutPhase = outcome === "promoted" || outcome === "kept" ? "promoted" : outcome === "rolled_back" ? "rolled_back" : outcome === "failed" ? "failed" : "idle";
  const next: RunState = {
    ...state,
    phase,
    step: { kind: "done" },
    attempt: 1,
    due: null,
    deadline: null,
    window: null,
    outcome,
    reason,
    finishedAt: now,
    notes: note ? [...state.notes, note] : state.notes,
  };
  const late = state.rollback?.reportedFailed && outcome === "rolled_back" ? ` (after ${state.rollback.attempts} failed attempts)` : "";
  events.push({
    kind: "outcome",
    state: phase,
    message: `${outcome}${late}${reason ? `: ${reason}` : ""}`,
    data: { outcome, improvementPct: next.result?.summary.improvementPct ?? null, statement: next.result?.summary.statement ?? null },
  });
  return next;
}

// ── successful steps ────────────────────────────────────────────────────────────────────────

function runnerResults(output: StepOutput, expected: number): unknown[] {
  if (output.kind !== "runner" || output.results.length !== expected) throw new Error(`expected ${expected} runner answer(s)`);
  return output.results;
}

function onSuccess(state: RunState, output: StepOutput, now: number, events: RunEventDraft[]): RunState {
  const step = state.step;
  switch (step.kind) {
    case "read_config": {
      const result = resultOf("read_config", runnerResults(output, 1)[0]);
      const next = { ...state, settings: result.settings, serverVersion: result.serverVersion };
      events.push({ kind: "step", state: state.phase, message: `read ${result.settings.length} settings (PostgreSQL ${result.serverVersion})` });
      return enter({ ...next, historyUntil: now }, { kind: "load_history" }, now, events);
    }
    case "load_history": {
      if (output.kind !== "history") throw new Error("expected a history answer");
      const usable = output.items.filter((i) => i.tps !== null && i.window_issue === null && !i.reset_detected);
      let next = state;
      if (!next.workloadClass && isWorkloadClass(output.workloadClass)) next = { ...next, workloadClass: output.workloadClass, workloadClassSource: "history" };
      if (usable.length >= state.timings.baselineMinSnapshots) {
        const baseline = usable.map(subWindowOfItem);
        events.push({ kind: "measurement", state: state.phase, message: `baseline from ${usable.length} stored snapshots of the last ${Math.round(state.timings.baselineLookbackMs / 1000)} s`, data: { baseline: brief(baseline) } });
        return afterBaseline({ ...next, baseline, baselineSource: "history" }, now, events);
      }
      events.push({ kind: "note", state: state.phase, message: `only ${usable.length} usable stored snapshots (need ${state.timings.baselineMinSnapshots}): measuring the baseline live` });
      return startWindow(next, "baseline", null, now, now, events);
    }
    case "sample":
      return onSample(state, output, now, events);
    case "propose": {
      if (output.kind !== "proposal") throw new Error("expected a proposal");
      const p = output.proposal;
      const next: RunState = {
        ...state,
        proposal: {
          source: "optimizer",
          rendered: p.rendered,
          objective: p.objective,
          proposalSource: p.warmStartSource ? `${p.source} (${p.warmStartSource})` : p.source,
          observationsUsed: p.observationsUsed,
          measuredObservations: p.measuredObservations,
          note: output.note,
        },
      };
      events.push({
        kind: "step",
        state: state.phase,
        message: `optimizer proposed ${Object.keys(p.rendered).length} settings (${p.source}${p.warmStartSource ? `: ${p.warmStartSource}` : ""}; objective ${p.objective}, ${p.measuredObservations} measured observations)`,
        data: { rendered: p.rendered, objective: p.objective, prediction: p.prediction ?? null, note: output.note },
      });
      return planAndRollOut(next, p.config, now, events);
    }
    case "hypo_indexes": {
      const advice = resultOf("hypo_indexes", runnerResults(output, 1)[0]);
      const recommendations = advice.recommendations.map((r) => ({ name: r.name, schema: r.schema, table: r.table, columns: r.columns, ddl: r.ddl }));
      const indexQueryIds = Object.fromEntries(advice.recommendations.map((r) => [r.name, r.queries.map((q) => q.queryId)]));
      const note = recommendations.length
        ? `${recommendations.length} index(es) cut a query's planner cost by ≥ ${advice.thresholds.minCostSavingsPct} %`
        : `no index would cut any of ${advice.queries.length} queries' planner cost by ≥ ${advice.thresholds.minCostSavingsPct} %`;
      const next: RunState = { ...state, indexes: { recommendations, queriesLookedAt: advice.queries.length, records: null, note }, indexQueryIds };
      events.push({ kind: "step", state: state.phase, message: note, data: { recommendations: recommendations.map((r) => r.ddl), warnings: advice.warnings, queries: advice.queries.map((q) => ({ queryId: q.queryId, calls: q.calls, decision: q.decision, reason: q.reason, costBefore: q.costBefore, costAfter: q.costAfter })), skippedTables: advice.skippedTables } });
      if (recommendations.length === 0) return afterIndexes(next, now, events);
      return enter(next, { kind: "create_index" }, now, events);
    }
    case "create_index": {
      const result = resultOf("create_index", runnerResults(output, 1)[0]);
      return recordIndexes(state, result.records, now, events);
    }
    case "apply": {
      const result = resultOf("apply_config", runnerResults(output, 1)[0]);
      return onApplied(state, result, now, events);
    }
    case "launch": {
      const answer = resultOf("launch_canary", runnerResults(output, 1)[0]);
      events.push({ kind: "step", state: state.phase, message: `canary ${answer.launched ? "launched" : "already running"} at ${answer.canary.host}:${answer.canary.port} (${answer.canary.backend}, ${Math.round(answer.launchMs)} ms)` });
      const next = { ...state, canary: { ...state.canary, launch: { backend: answer.canary.backend, host: answer.canary.host, port: answer.canary.port, launched: answer.launched, launchMs: answer.launchMs } } };
      return enter(next, { kind: "configure" }, now, events);
    }
    case "configure": {
      const answer = resultOf("configure_canary", runnerResults(output, 1)[0]);
      const notInEffect = answer.knobs.filter((k) => k.verdict === "testable" && !k.inEffect);
      const next = { ...state, canary: { ...state.canary, configure: { method: answer.method, notCanaryTestable: answer.notCanaryTestable, restartMs: answer.restartMs ?? null } } };
      events.push({
        kind: "step",
        state: state.phase,
        message: `canary configured (${answer.method}${answer.restartMs !== undefined ? `, restart ${Math.round(answer.restartMs)} ms` : ""})${answer.notCanaryTestable.length ? `; not judged by the canary: ${answer.notCanaryTestable.map((k) => `${k.name} (${k.verdict})`).join(", ")}` : ""}`,
        data: { knobs: answer.knobs },
      });
      if (notInEffect.length) return beginRollback(next, `canary settings not in effect: ${notInEffect.map((k) => `${k.name}${k.why ? ` (${k.why})` : ""}`).join(", ")}`, now, events);
      return enter(next, { kind: "route", pct: state.timings.canarySteps[0]! }, now, events);
    }
    case "route": {
      const answer = resultOf("route_traffic", runnerResults(output, 1)[0]);
      const record: CanaryStepRecord = { pct: step.pct, plannedShare: answer.plannedShare, measuredShare: answer.measuredShare, poolRefillMs: answer.poolRefillMs, comparison: null, system: null, verdict: null };
      const next = { ...state, canary: { ...state.canary, steps: [...state.canary.steps, record] } };
      events.push({
        kind: "measurement",
        state: state.phase,
        message: `routed ${step.pct} %: planned share ${pctText(answer.plannedShare)}, measured ${answer.measuredShare === null ? "not measured" : pctText(answer.measuredShare)}`,
        data: { pct: step.pct, plannedShare: answer.plannedShare, measuredShare: answer.measuredShare, poolRefillMs: answer.poolRefillMs },
      });
      if (answer.routedBack) return beginRollback(next, `the canary stopped answering and traffic went back to the primary at ${answer.routedBack.fromPct} %: ${answer.routedBack.reason}`, now, events);
      return startWindow(next, "canary", step.pct, now, now + state.timings.settleMs, events);
    }
    case "switchover":
      return onSwitchover(state, resultOf("switchover", runnerResults(output, 1)[0]), now, events);
    case "resolve": {
      const result = runnerResults(output, 1)[0];
      if (step.of === "apply") {
        const applied = resultOf("apply_config", result);
        const next = withApplied(state, applied);
        events.push({ kind: "step", state: state.phase, message: `the apply had ${next.applied!.length ? `written ${next.applied!.map((k) => k.name).join(", ")}` : "written nothing"}` });
        if (!next.applied!.length) return done(next, "rolled_back", state.rollback!.reason, now, events, "the apply had written nothing");
        return enter(next, { kind: "restore" }, now, events);
      }
      if (step.of === "switchover") {
        // It did complete: the canary is the primary now, so there is nothing to route back.
        const next = { ...state, rollback: null, notes: [...state.notes, `switchover completed after the rollback started (${state.rollback!.reason}); promoted`] };
        events.push({ kind: "note", state: "canary", message: "the switchover had completed: the canary is the primary, promoting instead of rolling back" });
        return onSwitchover(next, resultOf("switchover", result), now, events);
      }
      const records = resultOf("create_index", result).records;
      return recordIndexes(state, records, now, events);
    }
    case "restore": {
      runnerResults(output, (effectOf(state) as Extract<Effect, { kind: "runner" }>).commands.length);
      events.push({ kind: "step", state: state.phase, message: `previous settings restored: ${(state.applied ?? []).map((k) => `${k.name} = ${k.previous ?? "(reset)"}`).join(", ")}` });
      return done(state, "rolled_back", state.rollback!.reason, now, events);
    }
    case "route_back": {
      const answer = resultOf("route_traffic", runnerResults(output, 1)[0]);
      events.push({ kind: "measurement", state: state.phase, message: `all read-only traffic back on the primary (share on canary now ${answer.measuredShare === null ? "not measured" : pctText(answer.measuredShare)})`, data: { measuredShare: answer.measuredShare } });
      return enter(state, { kind: "teardown" }, now, events);
    }
    case "teardown": {
      resultOf("teardown_canary", runnerResults(output, 1)[0]);
      events.push({ kind: "step", state: state.phase, message: "canary torn down; traffic is 100 % on the primary" });
      return done(state, "rolled_back", state.rollback!.reason, now, events);
    }
    case "done":
      return state;
  }
}

function isWorkloadClass(v: string | null): v is "oltp" | "olap" | "mixed" {
  return v === "oltp" || v === "olap" || v === "mixed";
}

const pctText = (share: number) => `${(share * 100).toFixed(1)} %`;

function brief(windows: readonly SubWindow[]): Record<string, unknown> {
  const m = (k: "tps" | "qps" | "latencyP99" | "statementP99") => {
    const v = windows.map((w) => w[k]).filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  return { samples: windows.length, tps: m("tps"), qps: m("qps"), latencyP99: m("latencyP99"), statementP99: m("statementP99") };
}

function afterBaseline(state: RunState, now: number, events: RunEventDraft[]): RunState {
  let next = state;
  if (!next.workloadClass) {
    const cls = classifyWindows(next.baseline ?? []);
    next = cls ? { ...next, workloadClass: cls, workloadClassSource: "baseline_window" } : { ...next, workloadClass: "mixed", workloadClassSource: "default", notes: [...next.notes, "workload class unknown: the optimizer used the mixed ranges"] };
    events.push({ kind: "note", state: next.phase, message: `workload class ${next.workloadClass} (${next.workloadClassSource === "default" ? "not enough evidence; default" : "from the baseline window"})` });
  }
  const forced = next.forceConfig;
  if (forced) {
    events.push({ kind: "state", state: "optimizing", message: "→ optimizing" });
    next = {
      ...next,
      phase: "optimizing",
      proposal: { source: "forced", rendered: Object.fromEntries(Object.entries(forced).map(([k, v]) => [k, String(v)])), objective: "forced", proposalSource: null, observationsUsed: 0, measuredObservations: 0, note: "configuration forced by the request; the optimizer was not asked" },
      notes: [...next.notes, "the optimizer did not run: the configuration was forced by the request"],
    };
    events.push({ kind: "step", state: "optimizing", message: `forced configuration: ${Object.entries(forced).map(([k, v]) => `${k} = ${String(v)}`).join(", ")}` });
    return planAndRollOut(next, forced, now, events);
  }
  return enter(next, { kind: "propose" }, now, events);
}

/** One-shot class of the baseline window (no hysteresis: a single window has no history). */
function classifyWindows(windows: readonly SubWindow[]): "oltp" | "olap" | "mixed" | null {
  const config = DEFAULT_DETECT_CONFIG.workload;
  const snapshots = windows.map((w) => ({ snapshot_time: w.at, tps: w.tps }));
  const queriesAt = new Map(
    windows.map((w) => [Date.parse(w.at), w.queries.map((q) => ({ queryid: q.queryid, snapshot_time: w.at, calls: q.calls, mean_exec_time_ms: q.meanMs, total_exec_time_ms: q.meanMs * q.calls }))] as const),
  );
  const score = workloadScore(workloadFeatures(snapshots, queriesAt, config.longStatementMs), config.evidence);
  return score === null ? null : classFor(score, null, config);
}

function planAndRollOut(state: RunState, proposed: Record<string, string | number | boolean>, now: number, events: RunEventDraft[]): RunState {
  const planned = planKnobChange(proposed, state.settings ?? [], state.mode);
  if (!planned.ok) {
    const why = planned.errors.map((e) => `${e.knob}: ${e.message}`).join("; ");
    events.push({ kind: "error", state: state.phase, message: `the proposed configuration is not valid for this server: ${why}` });
    return done(state, "failed", `invalid configuration: ${why}`, now, events, "nothing was changed on the target");
  }
  const plan = planned.plan;
  const next: RunState = { ...state, plan };
  if (plan.canaryOnly.length) {
    const list = plan.canaryOnly.map((k) => `${k.name} ${k.from} → ${k.value}`).join(", ");
    next.notes = [...next.notes, `canary only (need a restart; direct mode leaves them out): ${list}`];
    events.push({ kind: "note", state: next.phase, message: `canary only, not applied in direct mode: ${list}`, data: { canaryOnly: plan.canaryOnly } });
  }
  if (plan.apply.length === 0) {
    const why = plan.canaryOnly.length ? "every change needs a restart, which only the canary path does" : "the proposal equals the current configuration";
    return afterKnobs(next, "no_change", `nothing to apply: ${why}`, now, events);
  }
  events.push({ kind: "step", state: next.phase, message: `will change ${plan.apply.map((k) => `${k.name} ${k.from} → ${k.value}`).join(", ")}`, data: { apply: plan.apply, unchanged: plan.unchanged } });
  return enter(next, state.mode === "direct" ? { kind: "apply" } : { kind: "launch" }, now, events);
}

function withApplied(state: RunState, result: ReturnType<typeof resultOf<"apply_config">>): RunState {
  const applied = [...result.applied, ...result.pendingRestart].map((k) => ({ name: k.name, value: k.value, previous: k.previous }));
  // A knob written but not in effect is still written: it must be restored too.
  for (const e of result.errors) {
    if (!applied.some((a) => a.name === e.knob)) {
      const planned = state.plan?.apply.find((k) => k.name === e.knob);
      if (planned) applied.push({ name: planned.name, value: planned.value, previous: null });
    }
  }
  return { ...state, applied };
}

function onApplied(state: RunState, result: ReturnType<typeof resultOf<"apply_config">>, now: number, events: RunEventDraft[]): RunState {
  const next = withApplied(state, result);
  events.push({
    kind: "step",
    state: state.phase,
    message: `applied ${result.applied.map((k) => `${k.name} = ${k.value}`).join(", ") || "nothing"}${result.skippedNeedsRestart.length ? `; skipped (restart): ${result.skippedNeedsRestart.map((k) => k.name).join(", ")}` : ""}`,
    data: { result },
  });
  if (result.errors.length) return beginRollback(next, `not in effect after the reload: ${result.errors.map((e) => `${e.knob}: ${e.message}`).join("; ")}`, now, events);
  if (next.applied!.length === 0) return afterKnobs(next, "no_change", "the runner applied nothing", now, events);
  return startWindow(next, "direct", null, now, now + state.timings.settleMs, events);
}

function onSwitchover(state: RunState, answer: ReturnType<typeof resultOf<"switchover">>, now: number, events: RunEventDraft[]): RunState {
  const next: RunState = { ...state, canary: { ...state.canary, switchover: { pauseMs: answer.pauseMs, newPrimary: answer.newPrimary, formerPrimaryRole: answer.formerPrimary.role } } };
  events.push({
    kind: "measurement",
    state: next.phase,
    message: `switchover done: clients paused ${Math.round(answer.pauseMs)} ms; new primary ${answer.newPrimary.host}:${answer.newPrimary.port}; former primary ${answer.formerPrimary.role}${answer.formerPrimary.error ? ` (${answer.formerPrimary.error})` : ""}`,
    data: { pauseMs: answer.pauseMs, steps: answer.steps },
  });
  return startWindow(next, "verify", null, now, now + state.timings.settleMs, events);
}

function recordIndexes(state: RunState, records: ReturnType<typeof resultOf<"create_index">>["records"], now: number, events: RunEventDraft[]): RunState {
  const kept = records.filter((r) => r.status === "kept" || r.status === "created");
  const next: RunState = { ...state, indexes: { ...state.indexes!, records } };
  events.push({
    kind: "measurement",
    state: state.phase,
    message: records.length ? records.map((r) => `${r.indexName}: ${r.status} (${r.measured.reason})`).join("; ") : "no index created",
    data: { records: records.map((r) => ({ indexName: r.indexName, status: r.status, improvementPct: r.measured.improvementPct, verdict: r.measured.verdict })) },
  });
  if (state.rollback) return done(next, kept.length ? "kept" : "rolled_back", state.rollback.reason, now, events, "the index step's outcome was learned after its timeout");
  return afterIndexes({ ...next, indexes: { ...next.indexes!, note: `${next.indexes!.note}; ${kept.length} kept, ${records.length - kept.length} dropped or failed` } }, now, events);
}

/** Queries ends here; holistic goes on with the knobs, measured against a baseline taken after the indexes. */
function afterIndexes(state: RunState, now: number, events: RunEventDraft[]): RunState {
  if (state.action === "holistic") {
    events.push({ kind: "note", state: state.phase, message: "index step finished; tuning knobs next (baseline taken after the index changes)" });
    return enter(state, { kind: "read_config" }, now, events);
  }
  const kept = (state.indexes?.records ?? []).filter((r) => r.status === "kept" || r.status === "created");
  return kept.length ? done(state, "kept", null, now, events) : done(state, "no_change", state.indexes?.note ?? null, now, events);
}

/** The knob part ended without a rollout: holistic keeps what its index step kept. */
function afterKnobs(state: RunState, outcome: Outcome, reason: string, now: number, events: RunEventDraft[]): RunState {
  const indexesKept = (state.indexes?.records ?? []).some((r) => r.status === "kept" || r.status === "created");
  if (outcome === "no_change" && indexesKept) return done(state, "kept", `indexes kept; knobs: ${reason}`, now, events);
  return done(state, outcome, reason, now, events);
}

// ── measurement windows ─────────────────────────────────────────────────────────────────────

function startWindow(state: RunState, purpose: WindowPurpose, pct: number | null, now: number, start: number, events: RunEventDraft[]): RunState {
  const t = state.timings;
  const length = purpose === "baseline" ? t.baselineWindowMs : purpose === "direct" ? t.directStabilizationMs : purpose === "canary" ? t.canaryStepMs : t.verifyWindowMs;
  const count = sampleCount(length, t.sampleEveryMs);
  const window: WindowState = { purpose, pct, plannedStart: start, count, last: { primary: null, canary: null }, primary: [], canary: [], gaps: 0 };
  return enter({ ...state, window }, { kind: "sample", purpose, index: 0, count, pct }, now, events, Math.max(now, start));
}

function onSample(state: RunState, output: StepOutput, now: number, events: RunEventDraft[]): RunState {
  const step = state.step as Extract<Step, { kind: "sample" }>;
  const window = state.window!;
  const canaryToo = step.purpose === "canary";
  const results = runnerResults(output, canaryToo ? 2 : 1);
  const primary = compactSample(sampleOf(results[0]));
  const canary = canaryToo ? compactSample(sampleOf(results[1])) : null;
  const w: WindowState = { ...window, last: { primary, canary }, primary: [...window.primary], canary: [...window.canary] };
  if (window.last.primary) {
    const p = subWindowBetween(window.last.primary, primary);
    const c = canary && window.last.canary ? subWindowBetween(window.last.canary, canary) : null;
    // Sub-windows stay paired (same index = same time) so canary and primary compare like for like.
    if (p && (!canaryToo || c)) {
      w.primary.push(p);
      if (c) w.canary.push(c);
    } else w.gaps += 1;
  }
  const next: RunState = { ...state, window: w };
  if (step.index + 1 < step.count) {
    const due = Math.max(now, w.plannedStart + (step.index + 1) * state.timings.sampleEveryMs);
    return enter(next, { ...step, index: step.index + 1 }, now, events, due);
  }
  return windowComplete(next, now, events);
}

function windowComplete(state: RunState, now: number, events: RunEventDraft[]): RunState {
  const w = state.window!;
  const gaps = w.gaps ? ` (${w.gaps} sample pair(s) without rates left out)` : "";
  switch (w.purpose) {
    case "baseline": {
      events.push({ kind: "measurement", state: state.phase, message: `live baseline: ${w.primary.length} sub-windows${gaps}`, data: { baseline: brief(w.primary) } });
      return afterBaseline({ ...state, baseline: stripQueries(w.primary), baselineSource: "live", window: null }, now, events);
    }
    case "direct": {
      const throughput = throughputMetricFor(state.timings);
      const verdict = baselineGate(state.baseline ?? [], w.primary, "latencyP99", state.thresholds, throughput);
      const summary = resultSummary(state.baseline ?? [], w.primary, { comparison: "before_after", throughput });
      const next: RunState = { ...state, window: null, gates: [...state.gates, { step: "direct", verdict }], result: { windows: stripQueries(w.primary), summary } };
      events.push({ kind: "gate", state: state.phase, message: `${verdict.pass ? "pass" : "FAIL"}: ${verdict.checks.map((c) => c.note).join("; ")}${gaps}`, data: { verdict, window: brief(w.primary) } });
      events.push({ kind: "measurement", state: state.phase, message: summary.statement, data: { improvementPct: summary.improvementPct, interval: summary.improvementInterval, claim: summary.claim } });
      if (!verdict.pass) return beginRollback(next, verdict.reason!, now, events);
      return afterKnobs(next, "kept", summary.statement, now, events);
    }
    case "canary": {
      const pct = w.pct!;
      const steps = state.timings.canarySteps;
      const finalStep = pct === steps[steps.length - 1];
      const system = w.primary.map((p, i) => combinedSubWindow(p, w.canary[i]!));
      const comparison = compareCanary(w.primary, w.canary, state.thresholds.canaryLatencyFloorMs);
      const verdict = combineVerdicts(baselineGate(state.baseline ?? [], system, "statementP99", state.thresholds, throughputMetricFor(state.timings)), canaryGate(comparison, state.thresholds, finalStep));
      const sys = brief(system);
      const stepsRec = state.canary.steps.map((s) => (s.pct === pct ? { ...s, comparison, verdict, system: { tps: sys.tps as number | null, statementP99: sys.statementP99 as number | null } } : s));
      const next: RunState = { ...state, window: null, canary: { ...state.canary, steps: stepsRec }, gates: [...state.gates, { step: `canary-${pct}`, verdict }] };
      events.push({
        kind: "gate",
        state: state.phase,
        message: `${pct} %: ${verdict.pass ? "pass" : "FAIL"}: ${verdict.checks.map((c) => c.note).join("; ")}${comparison.interval ? ` (ratio 95 % CI ${comparison.interval[0].toFixed(3)} … ${comparison.interval[1].toFixed(3)})` : ""}${gaps}`,
        data: { pct, verdict, comparison, system: sys },
      });
      if (!verdict.pass) return beginRollback(next, `at ${pct} %: ${verdict.reason}`, now, events);
      const following = steps.find((p) => p > pct);
      return enter(next, following !== undefined ? { kind: "route", pct: following } : { kind: "switchover" }, now, events);
    }
    case "verify": {
      const throughput = throughputMetricFor(state.timings);
      const summary = resultSummary(state.baseline ?? [], w.primary, { comparison: "before_after", throughput });
      const verdict = baselineGate(state.baseline ?? [], w.primary, "latencyP99", state.thresholds, throughput);
      const next: RunState = { ...state, window: null, result: { windows: stripQueries(w.primary), summary } };
      events.push({ kind: "measurement", state: state.phase, message: `after the switchover: ${summary.statement}`, data: { improvementPct: summary.improvementPct, interval: summary.improvementInterval, claim: summary.claim, verdict } });
      if (!verdict.pass) {
        // There is no way back after a switchover; say so loudly instead of pretending.
        next.notes = [...next.notes, `after the switchover the new primary is worse than the baseline (${verdict.reason}); a switchover cannot be rolled back automatically`];
        events.push({ kind: "error", state: state.phase, message: `new primary worse than the baseline after promotion: ${verdict.reason}` });
      }
      return done(next, "promoted", summary.statement, now, events);
    }
  }
}

function stripQueries(windows: readonly SubWindow[]): SubWindow[] {
  return windows.map((w) => ({ ...w, queries: [] }));
}

export type { RawSample };
