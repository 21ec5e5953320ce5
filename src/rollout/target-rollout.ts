/**
 * One Durable Object per target: the single writer of that target's rollout. It persists, then
 * acts (STYLE.md): every transition of the pure state machine (src/core/rollout) is written to
 * the object's SQLite-backed storage before the command it leads to is sent, and an alarm drives
 * every wait, retry and timeout — one alarm at a time.
 *
 * Crash safety: while a step runs, the alarm is re-armed `resumeCheckMs` ahead, so an object
 * evicted mid-step wakes up, reloads its state and performs the same step again: same commands,
 * same commandIds, which the runner's journal answers with their first result (or joins while
 * still running). Resuming a forward step long after its deadline rolls back. Rollbacks are
 * retried with backoff for as long as it takes; the run is reported failed (state, event,
 * /api/status) after rollbackMaxAttempts, and retries go on at the slowest pace.
 *
 * Records: every transition's run row and timeline events also go to pg2une's database. They
 * are queued in this object's storage in the same write as the transition (an outbox) and
 * flushed after each step; if the database is unreachable they wait and are retried — the
 * object's state is the source of truth.
 *
 * RPC (the API and the cron loop call these):
 *   start(action, { mode, trigger, target, … })  → StartResult (refuses while busy or cooling down)
 *   status()                                      → RolloutStatus
 *   recordTick(atMs)                              → RolloutStatus (the cron loop's heartbeat)
 *   recordDecision(decision)                      the cron loop's decision of a tick (shown by status())
 */
import { DurableObject } from "cloudflare:workers";
import { parseWorkerConfig, type WorkerConfig } from "../config";
import {
  advance,
  indexRowsOf,
  isBusy,
  isFinished,
  isRollbackStep,
  observationOf,
  runRowOf,
  startRun,
  stepKey,
  effectOf,
  StartRequestSchema,
  type RolloutAction,
  type RolloutPhase,
  type RunInput,
  type RunState,
  type StartRequest,
  type Transition,
} from "../core/rollout";
import type { TickDecision } from "../decide/tick-decision";
import { describeIssues } from "../protocol/errors";
import { openDb } from "../store/db";
import { writeRunRecords, type EventRow, type RunRecordBatch } from "../store/runs";
import { perform } from "./perform";

export type { RolloutPhase as RolloutState } from "../core/rollout";

const META_KEY = "status";
/** Storage key of the current (or last) run's state (a RunState from src/core/rollout). */
export const RUN_STORAGE_KEY = "run";
const RUN_KEY = RUN_STORAGE_KEY;
const EVENT_SEQ_KEY = "event-seq";
const OUTBOX_SEQ_KEY = "outbox-seq";
const OUTBOX_PREFIX = "outbox:";
const DECISION_KEY = "last-decision";

/** Steps performed back to back in one alarm before yielding (the next alarm continues). */
export const MAX_STEPS_PER_ALARM = 50;
/** An alarm handler yields after this long even if more steps are due. */
export const MAX_ALARM_BUSY_MS = 5 * 60_000;
/** A database write that takes longer is abandoned for this flush (retried later). */
export const FLUSH_TIMEOUT_MS = 15_000;
/** Outbox entries written per flush. */
export const FLUSH_BATCH = 50;
/** When the alarm handler itself fails (a bug, storage trouble): try again this soon. */
export const ALARM_ERROR_RETRY_MS = 5_000;
/** Cooldown when no run has set one yet. */
export const DEFAULT_COOLDOWN_MS = 300_000;

interface Meta {
  lastTickAt: number | null;
  /** When the last run ended (the cooldown counts from here). */
  lastOptimizationTime: number | null;
  cooldownMs: number;
  lastRunId: string | null;
  /**
   * When the last run that changed the configuration for good ended (outcome promoted or kept):
   * detection's baselines restart there, the old normal is gone. A later rolled-back run leaves
   * it alone (the configuration is still the promoted one).
   */
  lastPromotionTime: number | null;
}

const INITIAL_META: Meta = { lastTickAt: null, lastOptimizationTime: null, cooldownMs: DEFAULT_COOLDOWN_MS, lastRunId: null, lastPromotionTime: null };

export interface RunStatus {
  id: string;
  action: RunState["action"];
  mode: RunState["mode"];
  trigger: RunState["trigger"];
  phase: RolloutPhase;
  step: string;
  attempt: number;
  workloadClass: string | null;
  startedAt: string;
  finishedAt: string | null;
  nextActionAt: string | null;
  deadline: string | null;
  outcome: RunState["outcome"];
  reason: string | null;
  improvementPct: number | null;
  statement: string | null;
  rollbackPending: boolean;
  rollbackReason: string | null;
  rollbackAttempts: number;
  canarySteps: Array<{ pct: number; measuredShare: number | null; passed: boolean | null }>;
  switchoverPauseMs: number | null;
}

export interface RolloutStatus {
  state: RolloutPhase;
  /** A run is in progress (including a rollback still being retried): start() refuses. */
  busy: boolean;
  lastTickAt: number | null;
  /** When the last run ended, ms since the epoch (the cooldown counts from here). */
  lastOptimizationTime: number | null;
  /** When the last promoted (or kept) run ended, ms since the epoch: detection baselines start here. */
  lastPromotionTime: number | null;
  cooldownSeconds: number;
  cooldownLeftSeconds: number;
  run: RunStatus | null;
  /** Run records not yet written to pg2une's database (it was unreachable). */
  unflushedRecords: number;
  lastFlushError: string | null;
  /** The cron loop's latest decision for this target (null before its first). */
  lastDecision: TickDecision | null;
}

export type StartOptions = Omit<StartRequest, "action">;

export type StartResult =
  | { ok: true; runId: string; state: RolloutPhase; step: string }
  | {
      ok: false;
      reason: "busy" | "cooldown" | "invalid";
      message: string;
      state: RolloutPhase;
      runId: string | null;
      cooldownLeftSeconds: number;
      details?: Array<{ path: string; message: string }>;
    };

function runStatusOf(run: RunState): RunStatus {
  return {
    id: run.runId,
    action: run.action,
    mode: run.mode,
    trigger: run.trigger,
    phase: run.phase,
    step: run.step.kind === "done" ? "done" : `${run.rollback ? "rollback:" : ""}${stepKey(run.step)}`,
    attempt: run.attempt,
    workloadClass: run.workloadClass,
    startedAt: new Date(run.createdAt).toISOString(),
    finishedAt: run.finishedAt !== null ? new Date(run.finishedAt).toISOString() : null,
    nextActionAt: run.due !== null ? new Date(run.due).toISOString() : null,
    deadline: run.deadline !== null ? new Date(run.deadline).toISOString() : null,
    outcome: run.outcome,
    reason: run.reason,
    improvementPct: run.result?.summary.improvementPct ?? null,
    statement: run.result?.summary.statement ?? null,
    rollbackPending: run.rollback !== null && run.due !== null,
    rollbackReason: run.rollback?.reason ?? null,
    rollbackAttempts: run.rollback?.attempts ?? 0,
    canarySteps: run.canary.steps.map((s) => ({ pct: s.pct, measuredShare: s.measuredShare, passed: s.verdict ? s.verdict.pass : null })),
    switchoverPauseMs: run.canary.switchover?.pauseMs ?? null,
  };
}

export class TargetRollout extends DurableObject<Env> {
  /** Set while this instance performs a step: a watchdog alarm firing meanwhile only re-arms. */
  private performing = false;
  private lastFlushError: string | null = null;
  /** One flush at a time (start() and the alarm may both ask). */
  private flushing: Promise<void> | undefined;

  private config(): WorkerConfig {
    return parseWorkerConfig(this.env);
  }

  private async meta(): Promise<Meta> {
    return { ...INITIAL_META, ...(await this.ctx.storage.get<Partial<Meta>>(META_KEY)) };
  }

  private async currentRun(): Promise<RunState | null> {
    return (await this.ctx.storage.get<RunState>(RUN_KEY)) ?? null;
  }

  async status(): Promise<RolloutStatus> {
    const now = Date.now();
    const [meta, run, outbox, lastDecision] = await Promise.all([
      this.meta(),
      this.currentRun(),
      this.ctx.storage.list({ prefix: OUTBOX_PREFIX }),
      this.ctx.storage.get<TickDecision>(DECISION_KEY),
    ]);
    const left = cooldownLeftMs(meta, now);
    return {
      state: run?.phase ?? "idle",
      busy: isBusy(run),
      lastTickAt: meta.lastTickAt,
      lastOptimizationTime: meta.lastOptimizationTime,
      lastPromotionTime: meta.lastPromotionTime,
      cooldownSeconds: Math.round(meta.cooldownMs / 1000),
      cooldownLeftSeconds: Math.ceil(left / 1000),
      run: run ? runStatusOf(run) : null,
      unflushedRecords: outbox.size,
      lastFlushError: this.lastFlushError,
      lastDecision: lastDecision ?? null,
    };
  }

  /** The whole state of the current (or last) run, for operators and tests. */
  async currentRunState(): Promise<RunState | null> {
    return this.currentRun();
  }

  /** Called by every cron tick so an operator can see the loop is alive for this target. */
  async recordTick(atMs: number): Promise<RolloutStatus> {
    // get + put with no other await between them: nothing else runs in between (input gate).
    const meta = await this.meta();
    await this.ctx.storage.put(META_KEY, { ...meta, lastTickAt: atMs });
    return this.status();
  }

  /** Keeps the cron loop's decision of a tick (a newer tick's decision replaces an older one). */
  async recordDecision(decision: TickDecision): Promise<void> {
    const previous = await this.ctx.storage.get<TickDecision>(DECISION_KEY);
    if (previous && previous.at > decision.at) return;
    await this.ctx.storage.put(DECISION_KEY, decision);
  }

  async start(action: RolloutAction, options: StartOptions): Promise<StartResult> {
    const now = Date.now();
    const parsed = StartRequestSchema.safeParse({ ...options, action });
    const run = await this.currentRun();
    const meta = await this.meta();
    const phase = run?.phase ?? "idle";
    if (!parsed.success) {
      const details = describeIssues(parsed.error.issues);
      return { ok: false, reason: "invalid", message: `invalid start request: ${details[0]?.path}: ${details[0]?.message}`, state: phase, runId: null, cooldownLeftSeconds: 0, details };
    }
    if (isBusy(run)) {
      const rolling = run!.rollback ? `, rolling back (${run!.rollback.reason})` : "";
      return { ok: false, reason: "busy", message: `run ${run!.runId} is in progress (${run!.phase}, step ${stepKey(run!.step)}${rolling})`, state: phase, runId: run!.runId, cooldownLeftSeconds: Math.ceil(cooldownLeftMs(meta, now) / 1000) };
    }
    const left = cooldownLeftMs(meta, now);
    if (left > 0) {
      return { ok: false, reason: "cooldown", message: `cooling down after run ${meta.lastRunId}: ${Math.ceil(left / 1000)} s left of ${Math.round(meta.cooldownMs / 1000)} s`, state: phase, runId: meta.lastRunId, cooldownLeftSeconds: Math.ceil(left / 1000) };
    }
    const runId = `r-${crypto.randomUUID()}`;
    let transition: Transition;
    try {
      transition = startRun(parsed.data, runId, now, { timings: this.config().ROLLOUT_TIMINGS });
    } catch (err) {
      return { ok: false, reason: "invalid", message: (err as Error).message, state: phase, runId: null, cooldownLeftSeconds: 0 };
    }
    await this.ctx.storage.put(EVENT_SEQ_KEY, 0);
    await this.persist(null, transition, now);
    // The run row shows up in /api/optimizations right away, not after the first step.
    this.ctx.waitUntil(this.flush());
    return { ok: true, runId, state: transition.state.phase, step: stepKey(transition.state.step) };
  }

  override async alarm(): Promise<void> {
    if (this.performing) {
      const run = await this.currentRun();
      await this.ctx.storage.setAlarm(Date.now() + (run?.timings.resumeCheckMs ?? 30_000));
      return;
    }
    this.performing = true;
    try {
      await this.drive();
    } catch (err) {
      console.error(JSON.stringify({ event: "rollout_alarm_error", error: String(err), stack: (err as Error).stack }));
      await this.ctx.storage.setAlarm(Date.now() + ALARM_ERROR_RETRY_MS);
    } finally {
      this.performing = false;
    }
  }

  /** Performs every step that is due, persisting each transition before the next step acts. */
  private async drive(): Promise<void> {
    const started = Date.now();
    for (let i = 0; i < MAX_STEPS_PER_ALARM; i++) {
      const run = await this.currentRun();
      if (!run || run.due === null) break;
      const now = Date.now();
      if (now < run.due) {
        await this.ctx.storage.setAlarm(run.due);
        await this.flush();
        return;
      }
      if (now - started > MAX_ALARM_BUSY_MS) {
        await this.ctx.storage.setAlarm(now);
        return;
      }
      if (run.deadline !== null && !isRollbackStep(run.step)) {
        const late = advance(run, { kind: "overdue", stepKey: stepKey(run.step), attempt: run.attempt }, now);
        if (late.state !== run && late.events.length) {
          await this.persist(run, late, now);
          continue;
        }
      }
      const effect = effectOf(run);
      if (!effect) break;
      // If this object is evicted while the step runs, this alarm brings it back to resume.
      await this.ctx.storage.setAlarm(now + run.timings.resumeCheckMs);
      const performed = await perform(this.env, run, effect, now);
      const after = Date.now();
      const base = { stepKey: stepKey(run.step), attempt: run.attempt };
      const input: RunInput = performed.ok ? { kind: "done", ...base, output: performed.output } : { kind: "failed", ...base, error: performed.error };
      await this.persist(run, advance(run, input, after), after);
      await this.flush();
    }
    await this.flush();
    const run = await this.currentRun();
    if (run && run.due !== null) await this.ctx.storage.setAlarm(Math.max(Date.now(), run.due));
    else await this.scheduleFlushRetry(run);
  }

  /**
   * Writes a transition: the run state, its timeline events (numbered), the database records
   * queued in the outbox, the cooldown when the run ends — one atomic storage write — then the
   * alarm for what comes next.
   */
  private async persist(previous: RunState | null, t: Transition, now: number): Promise<void> {
    const storage = this.ctx.storage;
    const seq0 = (await storage.get<number>(EVENT_SEQ_KEY)) ?? 0;
    const outSeq = ((await storage.get<number>(OUTBOX_SEQ_KEY)) ?? 0) + 1;
    const meta = await this.meta();
    const state = t.state;
    const events: EventRow[] = t.events.map((e, i) => ({
      runId: state.runId,
      target: state.target.name,
      seq: seq0 + i + 1,
      at: new Date(now),
      kind: e.kind,
      state: e.state,
      message: e.message,
      data: e.data ?? null,
    }));
    const justFinished = isFinished(state) && !(previous && isFinished(previous));
    const batch: RunRecordBatch = {
      run: runRowOf(state),
      events,
      observation: justFinished ? observationOf(state) : null,
      indexes: justFinished ? indexRowsOf(state) : [],
    };
    const writes: Record<string, unknown> = {
      [RUN_KEY]: state,
      [EVENT_SEQ_KEY]: seq0 + events.length,
      [OUTBOX_SEQ_KEY]: outSeq,
      [`${OUTBOX_PREFIX}${String(outSeq).padStart(12, "0")}`]: batch,
    };
    if (justFinished) {
      const promoted = state.outcome === "promoted" || state.outcome === "kept";
      writes[META_KEY] = {
        ...meta,
        lastOptimizationTime: now,
        cooldownMs: state.timings.cooldownMs,
        lastRunId: state.runId,
        lastPromotionTime: promoted ? now : meta.lastPromotionTime,
      } satisfies Meta;
    }
    await storage.put(writes);
    for (const e of events) console.log(JSON.stringify({ event: "rollout", target: state.target.name, run: state.runId, seq: e.seq, kind: e.kind, state: e.state, message: e.message }));
    if (t.due !== null) await storage.setAlarm(t.due);
  }

  /** Writes queued records to pg2une's database, oldest first; stops at the first failure. */
  private flush(): Promise<void> {
    this.flushing ??= this.flushOutbox().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushOutbox(): Promise<void> {
    const entries = await this.ctx.storage.list<RunRecordBatch>({ prefix: OUTBOX_PREFIX, limit: FLUSH_BATCH });
    if (entries.size === 0) return;
    let config: WorkerConfig;
    try {
      config = this.config();
    } catch (err) {
      this.lastFlushError = (err as Error).message;
      return;
    }
    const { db, close } = openDb(config);
    try {
      for (const [key, batch] of entries) {
        await withTimeout(writeRunRecords(db, batch), FLUSH_TIMEOUT_MS, "writing run records");
        await this.ctx.storage.delete(key);
      }
      this.lastFlushError = null;
    } catch (err) {
      if (this.lastFlushError === null) console.error(JSON.stringify({ event: "rollout_flush_failed", error: String(err) }));
      this.lastFlushError = String((err as Error).message ?? err);
    } finally {
      await close().catch(() => undefined);
    }
  }

  /** A finished run with records still queued keeps an alarm until they are written. */
  private async scheduleFlushRetry(run: RunState | null): Promise<void> {
    const pending = await this.ctx.storage.list({ prefix: OUTBOX_PREFIX, limit: 1 });
    if (pending.size > 0) await this.ctx.storage.setAlarm(Date.now() + (run?.timings.flushRetryMs ?? 30_000));
  }
}

function cooldownLeftMs(meta: Meta, now: number): number {
  return meta.lastOptimizationTime === null ? 0 : Math.max(0, meta.lastOptimizationTime + meta.cooldownMs - now);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}
