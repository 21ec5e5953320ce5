/**
 * The runner client for one target: its URL and the signing key named by the target, from the
 * Worker's PG2UNE_RUNNER_KEYS. Used by the rollout Durable Object and the API routes that ask a
 * runner directly (GET /api/config, /api/infrastructure).
 */
import { parseKeyRing, type SigningKey } from "../protocol";
import { createRunnerClient, type RunnerClient, type RunnerClientOptions } from "../runner-client";

export class RunnerKeyMissingError extends Error {
  override name = "RunnerKeyMissingError";
}

export function signingKeyFor(keysSpec: string, keyId: string): SigningKey {
  const key = parseKeyRing(keysSpec).get(keyId);
  if (!key) throw new RunnerKeyMissingError(`no key "${keyId}" in PG2UNE_RUNNER_KEYS: add "${keyId}:<base64 secret>" (the same secret the runner has)`);
  return key;
}

export function runnerFor(
  keysSpec: string,
  target: { runnerUrl: string; runnerKeyId: string },
  options: Omit<RunnerClientOptions, "url" | "key"> = {},
): RunnerClient {
  return createRunnerClient({ url: target.runnerUrl, key: signingKeyFor(keysSpec, target.runnerKeyId), ...options });
}
