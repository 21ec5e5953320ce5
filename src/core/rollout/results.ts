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

/** Any command's result by name, parsed with its registered spec (for callers holding a string type). */
export function registeredResult(type: string, value: unknown): unknown {
  const spec = commandSpec(type);
  if (!spec) throw new AnswerShapeError(`${type} is not in this build's command registry`);
  const parsed = (spec.result as z.ZodType).safeParse(value);
  if (!parsed.success) throw new AnswerShapeError(`${type} answer does not match its schema: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
