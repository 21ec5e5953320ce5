/**
 * What can go wrong talking to a runner, as types a caller can branch on:
 *   RunnerRejectedError      the runner answered 4xx: do not retry, fix the request or the key
 *   RunnerUnreachableError   network failures / 5xx on every attempt (same commandId each time)
 *   RunnerUnverifiedResponse the answer's signature or shape is wrong: do not trust it
 */
import type { AuthFailureReason, CommandFailureReason } from "../protocol";

export class RunnerClientError extends Error {
  override name = "RunnerClientError";
  constructor(
    message: string,
    readonly commandId: string,
  ) {
    super(message);
  }
}

export class RunnerRejectedError extends RunnerClientError {
  override name = "RunnerRejectedError";
  constructor(
    message: string,
    commandId: string,
    readonly status: number,
    readonly reason: AuthFailureReason | CommandFailureReason | string,
    readonly details: unknown,
    /**
     * False for auth refusals (401), which the runner cannot sign with a key it did not accept:
     * their reason is informative only.
     */
    readonly verified: boolean,
  ) {
    super(message, commandId);
  }
}

export class RunnerUnreachableError extends RunnerClientError {
  override name = "RunnerUnreachableError";
  constructor(
    message: string,
    commandId: string,
    readonly attempts: number,
    /** The last status seen (5xx) when the runner answered, else undefined (network error). */
    readonly lastStatus: number | undefined,
    override readonly cause: unknown,
  ) {
    super(message, commandId);
  }
}

export class RunnerUnverifiedResponseError extends RunnerClientError {
  override name = "RunnerUnverifiedResponseError";
  constructor(
    message: string,
    commandId: string,
    readonly status: number,
    readonly reason: string,
  ) {
    super(message, commandId);
  }
}
