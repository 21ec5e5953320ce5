/**
 * Asking a target's runner from an API route, with the API's error shape: an unreachable runner
 * is a 502 that says which runner and what to check, a refusal keeps the runner's status and
 * reason, a command this build does not have is a 501.
 */
import { registeredResult } from "../core/rollout/results";
import { CommandResponseSchema, commandSpec } from "../protocol";
import { RunnerUnreachableError, RunnerUnverifiedResponseError } from "../runner-client";
import { RunnerKeyMissingError, runnerFor } from "../rollout/runner-for-target";
import type { Target } from "../store/targets";
import { ApiError } from "./errors";

/** An API request does not wait for a slow runner as long as the rollout does. */
export const API_RUNNER_RETRY = { maxAttempts: 2, baseDelayMs: 300, maxDelayMs: 1_000 };

export async function askRunner(keysSpec: string, target: Target, type: string, payload: Record<string, unknown>, requestTimeoutMs = 20_000): Promise<unknown> {
  const spec = commandSpec(type);
  if (!spec) throw new ApiError(501, `this build of pg2une does not have the ${type} command yet`);
  let client;
  try {
    client = runnerFor(keysSpec, target, { retry: API_RUNNER_RETRY, requestTimeoutMs: Math.min(requestTimeoutMs, spec.timeoutMs + 5_000) });
  } catch (err) {
    if (err instanceof RunnerKeyMissingError) throw new ApiError(500, err.message);
    throw err;
  }
  let answer;
  try {
    answer = await client.sendRaw({ type, payload });
  } catch (err) {
    if (err instanceof RunnerUnreachableError) {
      throw new ApiError(502, `the runner of target ${target.name} at ${target.runnerUrl} is unreachable: is \`pg2une runner\` running there and is RUNNER_URL right?`, { command: type, cause: err.message });
    }
    if (err instanceof RunnerUnverifiedResponseError) throw new ApiError(502, `the runner of target ${target.name} sent an answer that fails verification`, { command: type, cause: err.message });
    throw err;
  }
  const envelope = CommandResponseSchema.safeParse(answer.body);
  if (!envelope.success) throw new ApiError(502, `the runner of target ${target.name} answered ${type} with something that is not a command response`);
  if (!envelope.data.ok) {
    const f = envelope.data;
    if (answer.status === 401) {
      throw new ApiError(502, `the runner of target ${target.name} refused this Worker's signature (${f.reason}): key "${target.runnerKeyId}" must hold the same secret on both sides`, { command: type });
    }
    const status = answer.status === 401 ? 502 : answer.status >= 400 && answer.status < 600 ? answer.status : 502;
    throw new ApiError(status as 400, `the runner refused ${type}: ${f.error}`, { reason: f.reason, runner_status: answer.status, details: f.details });
  }
  try {
    return registeredResult(type, envelope.data.result);
  } catch (err) {
    throw new ApiError(502, `the runner's ${type} answer does not match its schema`, { cause: (err as Error).message });
  }
}
