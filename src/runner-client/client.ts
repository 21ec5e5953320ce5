/**
 * The Worker's side of the signed-command protocol: sign, send, verify the answer, retry.
 * Web-standard (fetch, crypto.subtle), so the cron, the Durable Object and `pg2une send` share it.
 *
 * Retries keep the commandId (the runner's journal makes a repeat return the first result) and
 * sign each attempt afresh (new nonce, new timestamp). Only network failures and 5xx answers are
 * retried; a 4xx is final.
 *
 * @example
 *   const runner = createRunnerClient({ url: "http://127.0.0.1:7070", key });
 *   const { result } = await runner.send("apply_config", { settings: { work_mem: "64MB" } });
 *   result.applied; // [{ name: "work_mem", value: "64MB", … }]
 */
import {
  COMMANDS_PATH,
  COMMAND_SPECS,
  CommandResponseSchema,
  signRequest,
  verifySignedResponse,
  type CommandPayloadInput,
  type CommandSuccess,
  type ImplementedCommandType,
  type RandomBytes,
  type SigningKey,
} from "../protocol";
import { RunnerRejectedError, RunnerUnreachableError, RunnerUnverifiedResponseError } from "./errors";

export interface RetryPolicy {
  /** Total attempts, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** About 7.5 s of backoff in total: bridges a runner restart, not a long outage. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 4_000 };
/** Per attempt; above the longest command timeout of the runner's defaults. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export interface RunnerClientOptions {
  /** Base URL of the runner, e.g. http://127.0.0.1:7070. */
  url: string;
  key: SigningKey;
  retry?: Partial<RetryPolicy>;
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1): backoff jitter. */
  random?: () => number;
  randomBytes?: RandomBytes;
}

export interface SendOptions {
  /** Idempotency key; default a new UUID. Pass the same one to resend a command later. */
  commandId?: string;
}

/** A verified answer, whatever its status (for tools that print any answer, like `pg2une send`). */
export interface VerifiedAnswer {
  status: number;
  body: unknown;
  /** False only for 401s, which the runner cannot sign. */
  verified: boolean;
  replay: string | null;
  commandId: string;
  attempts: number;
}

export interface RunnerClient {
  send<T extends ImplementedCommandType>(type: T, payload: CommandPayloadInput<T>, opts?: SendOptions): Promise<CommandSuccess<T>>;
  /** Signs and sends any body and returns the verified answer without interpreting its status. */
  sendRaw(body: { type: string; payload?: unknown }, opts?: SendOptions): Promise<VerifiedAnswer>;
}

export function createRunnerClient(options: RunnerClientOptions): RunnerClient {
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const endpoint = new URL(COMMANDS_PATH, options.url.endsWith("/") ? options.url : `${options.url}/`);
  const path = endpoint.pathname + endpoint.search;

  async function attemptOnce(bodyText: string, commandId: string) {
    const signed = await signRequest({ key: options.key, method: "POST", path, body: bodyText, commandId, now: options.now, randomBytes: options.randomBytes });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS} ms`)), options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    try {
      const res = await doFetch(endpoint.toString(), {
        method: "POST",
        headers: { ...signed.headers, "content-type": "application/json" },
        body: signed.body,
        signal: controller.signal,
      });
      const bytes = new Uint8Array(await res.arrayBuffer());
      return { res, bytes, nonce: signed.envelope.nonce };
    } finally {
      clearTimeout(timer);
    }
  }

  async function sendRaw(body: { type: string; payload?: unknown }, opts: SendOptions = {}): Promise<VerifiedAnswer> {
    const commandId = opts.commandId ?? crypto.randomUUID();
    const bodyText = JSON.stringify(body);
    let lastError: unknown;
    let lastStatus: number | undefined;
    for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
      if (attempt > 1) {
        const backoff = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 2));
        await sleep(backoff / 2 + random() * (backoff / 2));
      }
      let answer;
      try {
        answer = await attemptOnce(bodyText, commandId);
      } catch (err) {
        lastError = err;
        lastStatus = undefined;
        continue;
      }
      const { res, bytes, nonce } = answer;
      const parsed = decode(bytes);
      if (res.status === 401) {
        return { status: 401, body: parsed, verified: false, replay: null, commandId, attempts: attempt };
      }
      const check = await verifySignedResponse({
        key: options.key,
        request: { method: "POST", path, nonce, commandId },
        status: res.status,
        headers: res.headers,
        body: bytes,
        now: options.now,
      });
      if (!check.ok) {
        throw new RunnerUnverifiedResponseError(`runner ${options.url} sent an answer that fails verification (${check.reason}): ${check.message}`, commandId, res.status, check.reason);
      }
      if (res.status >= 500) {
        lastStatus = res.status;
        lastError = new Error(describeFailure(parsed, res.status));
        continue;
      }
      return { status: res.status, body: parsed, verified: true, replay: res.headers.get("x-pg2une-journal"), commandId, attempts: attempt };
    }
    const why = lastError instanceof Error ? lastError.message : String(lastError);
    throw new RunnerUnreachableError(`runner ${options.url} did not answer ${body.type} after ${retry.maxAttempts} attempts: ${why}`, commandId, retry.maxAttempts, lastStatus, lastError);
  }

  return {
    sendRaw,
    async send(type, payload, opts = {}) {
      const answer = await sendRaw({ type, payload }, opts);
      const envelope = CommandResponseSchema.safeParse(answer.body);
      if (!envelope.success) {
        throw new RunnerUnverifiedResponseError(`runner answered ${type} with a body that is not a command response`, answer.commandId, answer.status, "malformed_response");
      }
      if (!envelope.data.ok) {
        const f = envelope.data;
        const what = answer.verified ? "refused" : "refused (unsigned 401)";
        throw new RunnerRejectedError(`runner ${what} ${type}: ${f.reason}: ${f.error}`, answer.commandId, answer.status, f.reason, f.details, answer.verified);
      }
      const result = COMMAND_SPECS[type].result.safeParse(envelope.data.result);
      if (!result.success) {
        throw new RunnerUnverifiedResponseError(`runner's ${type} result does not match its schema: ${result.error.issues[0]?.message}`, answer.commandId, answer.status, "malformed_response");
      }
      return { ...envelope.data, result: result.data } as CommandSuccess<typeof type>;
    },
  };
}

function decode(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { ok: false, error: "answer is not JSON", reason: "malformed_response" };
  }
}

function describeFailure(body: unknown, status: number): string {
  const b = body as { error?: unknown; reason?: unknown };
  return `HTTP ${status}${typeof b?.reason === "string" ? ` ${b.reason}` : ""}${typeof b?.error === "string" ? `: ${b.error}` : ""}`;
}
