/**
 * Reading the runner's answers inside the state machine. The answers crossed a boundary (the
 * shell got them over HTTP, the DO may have stored them), so each is parsed with the command's
 * own result schema from the shared registry (src/protocol/commands) before the machine reads
 * it. A collect answer is a RawSample (src/core/metrics/sample.ts).
 */
import type { z } from "zod";
import { RawSampleSchema, type RawSample } from "../metrics";
import { COMMAND_SPECS, commandSpec, type CommandResult, type ImplementedCommandType } from "../../protocol/commands/index";

export class AnswerShapeError extends Error {
  override name = "AnswerShapeError";
}

/** A registered command's result, parsed with its spec. */
export function resultOf<T extends ImplementedCommandType>(type: T, value: unknown): CommandResult<T> {
  const parsed = (COMMAND_SPECS[type].result as z.ZodType).safeParse(value);
  if (!parsed.success) throw new AnswerShapeError(`${type} answer does not match its schema: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`);
  return parsed.data as CommandResult<T>;
}

/** A collect answer: the sample itself. */
export function sampleOf(value: unknown): RawSample {
  const spec = commandSpec("collect");
  const candidate = spec ? (spec.result as z.ZodType).safeParse(value) : { success: true as const, data: value };
  const parsed = RawSampleSchema.safeParse(candidate.success ? candidate.data : value);
  if (!parsed.success) throw new AnswerShapeError(`collect answer is not a sample: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/**
 * Any command's result, parsed with its registered spec (for commands typed by a view below
 * until their spec is in the registry of this build).
 */
export function registeredResult(type: string, value: unknown): unknown {
  const spec = commandSpec(type);
  if (!spec) throw new AnswerShapeError(`${type} is not in this build's command registry`);
  const parsed = (spec.result as z.ZodType).safeParse(value);
  if (!parsed.success) throw new AnswerShapeError(`${type} answer does not match its schema: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** The fields of the canary commands' results the rollout reads (validated by their specs first). */
export interface LaunchAnswer {
  canary: { backend: string; host: string; port: number };
  launched: boolean;
  launchMs: number;
}
export interface ConfigureAnswer {
  method: string;
  knobs: Array<{ name: string; value: string; verdict: string; applied: boolean; inEffect: boolean; why?: string | undefined }>;
  notCanaryTestable: Array<{ name: string; verdict: string; why: string }>;
  restartMs?: number | undefined;
}
export interface RouteAnswer {
  canaryPct: number;
  plannedShare: number;
  measuredShare: number | null;
  poolRefillMs: number | null;
  routedBack: { reason: string; fromPct: number } | null;
}
export interface SwitchoverAnswer {
  newPrimary: { host: string; port: number };
  pauseMs: number;
  formerPrimary: { host: string; port: number; role: string; error?: string | undefined };
  steps: Array<{ step: string; ms: number }>;
}
export interface TeardownAnswer {
  tornDown: { host: string; port: number } | null;
  routedBack: boolean;
}
