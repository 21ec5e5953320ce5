export { createRunnerClient, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RETRY, type RetryPolicy, type RunnerClient, type RunnerClientOptions, type SendOptions, type VerifiedAnswer } from "./client";
export { RunnerClientError, RunnerRejectedError, RunnerUnreachableError, RunnerUnverifiedResponseError } from "./errors";
