/**
 * A run as the Durable Object persists it: who asked for what, where it is (phase, step,
 * attempt, when the next thing is due and by when the runner must answer), and everything
 * learned so far. Plain JSON, so it survives storage as is.
 */
import { z } from "zod";
import { WORKLOAD_CLASSES, type PgSettingRow, type WorkloadClass } from "../knobs";
import type { KnobProposal } from "../optimize/tune-knobs";
import { IndexAdvisorThresholdsSchema } from "../indexes/thresholds";
import type { ManagedIndexRecord, Recommendation } from "../indexes/schemas";
import type { RawSample } from "../metrics";
import { KnobNameSchema } from "../../protocol/commands/knob-name";
import { GateThresholdsSchema, type CanaryComparison, type GateThresholds, type GateVerdict } from "./gates";
import type { KnobChangePlan } from "./knob-plan";
import type { SubWindow } from "./series";
import type { RolloutPhase, Step, WindowPurpose } from "./steps";
import type { ResultSummary } from "./summary";
import { RolloutTimingsSchema, type RolloutTimings } from "./timings";

export const ROLLOUT_ACTIONS = ["knobs", "queries", "holistic"] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];
export const ROLLOUT_MODES = ["direct", "canary"] as const;
export type RolloutMode = (typeof ROLLOUT_MODES)[number];
export type RolloutTrigger = "manual" | "auto";
export type Outcome = "promoted" | "kept" | "rolled_back" | "failed" | "no_change";

export const RunTargetSchema = z.object({
  name: z.string().min(1).max(63),
  runnerUrl: z.string().url(),
  runnerKeyId: z.string().min(1),
  totalRamMb: z.number().int().positive(),
  cpus: z.number().int().positive().nullable().default(null),
  storage: z.enum(["ssd", "hdd", "san"]).nullable().default(null),
});
export type RunTarget = z.output<typeof RunTargetSchema>;

export const KnobOverrideSchema = z
  .record(KnobNameSchema, z.union([z.string().max(1024), z.number(), z.boolean()]))
  .refine((c) => Object.keys(c).length > 0, "give at least one knob");

/**
 * Why a run was started when it was not a person asking: the cron loop's decision, with the
 * detectors that fired and the confidence, so the run's timeline says what it reacted to.
 */
export const RunCauseSchema = z
  .object({
    source: z.literal("cron"),
    /** The cron tick that decided (ms since the epoch). */
    tickAt: z.number().int().nonnegative(),
    /** The decision in one sentence (src/core/analysis/decision.ts summary). */
    summary: z.string().max(500),
    confidence: z.number().min(0).max(1),
    /** What fired: metric_degraded(M), otava_change_point(M), query_regression(Q), usl_warning, … */
    detectors: z.array(z.string().max(200)).max(50),
  })
  .strict();
export type RunCause = z.output<typeof RunCauseSchema>;

/** What start() takes (the API and the cron loop build it). */
export const StartRequestSchema = z
  .object({
    action: z.enum(ROLLOUT_ACTIONS),
    mode: z.enum(ROLLOUT_MODES),
    trigger: z.enum(["manual", "auto"]).default("manual"),
    target: RunTargetSchema,
    /** From detection; when absent the baseline window is classified. */
    workloadClass: z.enum(WORKLOAD_CLASSES as unknown as [WorkloadClass, ...WorkloadClass[]]).optional(),
    /** Partial overrides of the step timings (tests; operators who know why). */
    timings: RolloutTimingsSchema.partial().strict().optional(),
    thresholds: GateThresholdsSchema.partial().strict().optional(),
    indexThresholds: IndexAdvisorThresholdsSchema.partial().optional(),
    /**
     * Skip the optimizer and roll out exactly this configuration through the same path and gates
     * (tests, and operators trying a config safely). The API accepts it only when the Worker's
     * ALLOW_FORCED_CONFIG is "true".
     */
    forceConfig: KnobOverrideSchema.optional(),
    /** Set by the cron loop (trigger "auto"): what it reacted to. */
    cause: RunCauseSchema.optional(),
  })
  .strict();
export type StartRequest = z.input<typeof StartRequestSchema>;

/** A measurement window in progress. */
export interface WindowState {
  purpose: WindowPurpose;
  pct: number | null;
  /** When sample 0 is due; sample i is due at plannedStart + i·sampleEveryMs. */
  plannedStart: number;
  count: number;
  last: { primary: RawSample | null; canary: RawSample | null };
  primary: SubWindow[];
  canary: SubWindow[];
  /** Sample pairs that gave no rates (counter reset, too short). */
  gaps: number;
}

export interface CanaryStepRecord {
  pct: number;
  plannedShare: number | null;
  measuredShare: number | null;
  poolRefillMs: number | null;
  comparison: CanaryComparison | null;
  system: { tps: number | null; statementP99: number | null } | null;
  verdict: GateVerdict | null;
}

export interface IndexStepRecord {
  recommendations: Array<Pick<Recommendation, "name" | "schema" | "table" | "columns" | "ddl">>;
  queriesLookedAt: number;
  records: ManagedIndexRecord[] | null;
  note: string;
}

export interface ProposalRecord {
  source: "optimizer" | "forced";
  /** Rendered values as proposed (before dropping unchanged / canary-only knobs). */
  rendered: Record<string, string>;
  objective: KnobProposal["objective"] | "forced";
  proposalSource: string | null;
  observationsUsed: number;
  measuredObservations: number;
  note: string | null;
}

export interface RunState {
  version: 1;
  runId: string;
  action: RolloutAction;
  mode: RolloutMode;
  trigger: RolloutTrigger;
  /** What an automatic run reacted to (absent in runs persisted before it existed). */
  cause?: RunCause | null;
  target: RunTarget;
  timings: RolloutTimings;
  thresholds: GateThresholds;
  indexThresholds: Record<string, unknown>;
  forceConfig: Record<string, string | number | boolean> | null;
  /** Seeds the optimizer (derived from the run id, so a replay proposes the same). */
  seed: number;
  createdAt: number;

  phase: RolloutPhase;
  step: Step;
  /** Attempt of the current step (part of its commandIds). */
  attempt: number;
  /** When the current step's work is due (the alarm); null once the run is finished. */
  due: number | null;
  /** The runner must have answered the current step by then; null for steps without a limit. */
  deadline: number | null;
  /** Sends of the current step's commands so far (lost answers re-sent with the same ids). */
  tries: number;

  settings: Array<PgSettingRow & { display: string }> | null;
  serverVersion: string | null;
  /** The baseline history ends here (when the configuration was read). */
  historyUntil: number | null;
  workloadClass: WorkloadClass | null;
  workloadClassSource: "detection" | "history" | "baseline_window" | "default" | null;
  baseline: SubWindow[] | null;
  baselineSource: "history" | "live" | null;
  window: WindowState | null;
  proposal: ProposalRecord | null;
  plan: KnobChangePlan | null;
  /** What was sent that changes the target, so a rollback knows what to undo. */
  sent: { apply: boolean; launch: boolean; switchover: boolean; createIndex: boolean };
  applied: Array<{ name: string; value: string; previous: string | null }> | null;
  canary: { launch: LaunchRecord | null; configure: ConfigureRecord | null; steps: CanaryStepRecord[]; switchover: SwitchoverRecord | null };
  indexes: IndexStepRecord | null;
  /** Recommended index name → the queryids it serves (create_index measures those). */
  indexQueryIds: Record<string, string[]> | null;
  gates: Array<{ step: string; verdict: GateVerdict }>;
  result: { windows: SubWindow[]; summary: ResultSummary } | null;
  rollback: { reason: string; startedAt: number; attempts: number; reportedFailed: boolean } | null;
  outcome: Outcome | null;
  reason: string | null;
  finishedAt: number | null;
  /** Plain statements of what ran and what did not (shown with the run). */
  notes: string[];
}

export interface LaunchRecord {
  backend: string;
  host: string;
  port: number;
  launched: boolean;
  launchMs: number;
}
export interface ConfigureRecord {
  method: string;
  notCanaryTestable: Array<{ name: string; verdict: string; why: string }>;
  restartMs: number | null;
}
export interface SwitchoverRecord {
  pauseMs: number;
  newPrimary: { host: string; port: number };
  formerPrimaryRole: string;
}

/** The run is over (no more steps), though a failed rollback may still be retried. */
export function isFinished(state: RunState): boolean {
  return state.step.kind === "done";
}

/**
 * Busy: a step is pending. A run whose rollback failed stays busy (and keeps retrying): a new
 * run must not start on a target whose traffic or settings may still be half-changed.
 */
export function isBusy(state: RunState | null): boolean {
  return state !== null && state.due !== null;
}

export type { GateThresholds, RolloutTimings };
