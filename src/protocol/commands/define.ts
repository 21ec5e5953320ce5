/**
 * A command's contract: its payload and result schemas (shared by sender and runner), whether it
 * changes the target (mutating commands on one target run one at a time) and how long it may run.
 *
 * @example
 *   export const dropIndexCommand = defineCommand({
 *     type: "drop_index", summary: "DROP INDEX CONCURRENTLY a managed index", mutating: true,
 *     timeoutMs: 10 * 60_000, payload: z.object({ name: z.string() }), result: z.object({ dropped: z.boolean() }),
 *   });
 *   // then add `drop_index: dropIndexCommand` to COMMAND_SPECS in ./index.ts
 */
import type { z } from "zod";
import type { CommandType } from "./names";

/** Default for a command that does not name its own timeout. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

/**
 * How long the runner keeps a command's answer for repeats of its command id:
 * - durable: days (the runner's journal retention), for anything that changed the target;
 * - brief: minutes (the runner's brief journal), for large read-only answers such as a metrics
 *   sample, whose only repeats are the sender's retries a few seconds later. After that a repeat
 *   runs again, which is harmless for a read-only command.
 */
export type JournalRetention = "durable" | "brief";

export interface CommandSpec<T extends CommandType = CommandType, P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  type: T;
  summary: string;
  mutating: boolean;
  timeoutMs: number;
  /** Default "durable". */
  journal?: JournalRetention;
  payload: P;
  result: R;
}

export function defineCommand<T extends CommandType, P extends z.ZodType, R extends z.ZodType>(spec: CommandSpec<T, P, R>): CommandSpec<T, P, R> {
  return spec;
}
