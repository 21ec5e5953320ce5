/**
 * What a command handler gets, and how it refuses. A handler validates, acts, and returns its
 * result; the server around it verifies, journals, serializes and times it out.
 */
import type { CommandFailureReason, CommandPayload, CommandResult, ImplementedCommandType } from "../../src/protocol";
import type { CanaryRuntime } from "../canary/runtime";
import type { TargetConnector } from "../postgres/target";
import type { log } from "../server/log";

export interface CommandContext {
  commandId: string;
  /** The target's primary (the runner's TARGET_POSTGRES_URL). */
  target: TargetConnector;
  /**
   * The running canary's connection, or undefined when no canary runs on this runner: the one
   * place commands look the canary up (collect with node "canary"). runner.ts provides it from the
   * canary backend's rollout state (currentCanaryTarget).
   */
  canaryTarget(): TargetConnector | undefined;
  /** Protected or out-of-catalog settings this runner's operator allows (exact names). */
  allowKnobs: readonly string[];
  /** Aborted at the deadline; long handlers check it between steps. */
  signal: AbortSignal;
  /** Epoch ms after which the caller has been told "timeout". */
  deadline: number;
  log: typeof log;
  /** Canary, routing and mxc machinery (absent in runners built without it, e.g. unit tests). */
  canary?: CanaryRuntime | undefined;
}

export type CommandHandler<T extends ImplementedCommandType> = (payload: CommandPayload<T>, ctx: CommandContext) => Promise<CommandResult<T>>;

/**
 * A definite "no" from a handler (bad value, conflicting state): answered with its status and
 * journaled like a result, because repeating the same command gives the same answer.
 */
export class CommandRefusal extends Error {
  override name = "CommandRefusal";
  constructor(
    readonly status: 400 | 409 | 422,
    readonly reason: CommandFailureReason,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
