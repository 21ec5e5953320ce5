/**
 * POST /v1/commands: verify → (journal?) → parse → execute → journal → answer, signed.
 *
 * Nothing about the body is looked at before the signature, freshness and nonce checks pass; an
 * auth failure is answered 401 unsigned (the caller's key may be the problem) and executes
 * nothing. Every later answer is signed with the caller's key and bound to its nonce.
 *
 * Idempotency: a commandId whose outcome is journaled gets the stored response back (same
 * status, same bytes) and nothing runs; one still running is waited for, not run twice.
 * Outcomes that may change on retry (timeout, target down, internal error) are not journaled.
 */
import type { IncomingMessage } from "node:http";
import {
  NonceStoreFullError,
  parseCommand,
  sha256Hex,
  signResponse,
  verifySignedRequest,
  type AuthFailureReason,
  type CommandFailure,
  type CommandFailureReason,
  type CommandSpec,
  type KeyRing,
  type NonceStore,
  type RequestBinding,
  type SigningKey,
} from "../../src/protocol";
import type { CanaryRuntime } from "../canary/runtime";
import { COMMAND_HANDLERS, CommandRefusal, type CommandContext } from "../commands";
import { isConnectionProblem, isStatementTimeout, type TargetConnector } from "../postgres/target";
import type { CommandJournal, JournalEntry } from "../state/journal";
import type { RouteHandler, RouteResponse } from "./http";
import { KeyedMutex } from "./keyed-mutex";
import { log as defaultLog } from "./log";

export const JOURNAL_REPLAY_HEADER = "x-pg2une-journal";

export interface CommandRouteDeps {
  keys: KeyRing;
  nonces: NonceStore;
  journal: CommandJournal;
  /** Where answers of `journal: "brief"` commands (collect) go; default: `journal`. */
  briefJournal?: CommandJournal | undefined;
  target: TargetConnector;
  /**
   * The running canary's connection (undefined: no canary); runner.ts reads it from the canary
   * backend's rollout state. Absent, every command sees "no canary".
   */
  canaryTarget?: (() => TargetConnector | undefined) | undefined;
  /** Identifies the target for the mutating-command lock. */
  targetKey: string;
  allowKnobs: readonly string[];
  /** Overrides every command's own timeout (tests, slow hosts). */
  commandTimeoutMs?: number | undefined;
  /** The canary machinery handed to canary/infrastructure commands. */
  canary?: CanaryRuntime | undefined;
  log?: typeof defaultLog;
  now?: () => number;
}

interface Outcome {
  status: number;
  body: string;
  /** Journal it: repeating the command would give the same answer. */
  definitive: boolean;
}

interface InFlight {
  requestSha256: string;
  done: Promise<Outcome>;
  type: string;
  timeoutMs: number;
}

type Claim =
  | { kind: "answer"; outcome: Pick<Outcome, "status" | "body"> }
  | { kind: "journaled"; entry: JournalEntry }
  | { kind: "running"; running: InFlight }
  | { kind: "started"; running: InFlight; deadline: number };

/** Lookups are short and must not be abandoned half-way. */
const NEVER = new AbortController().signal;

class CommandTimeout extends Error {
  override name = "CommandTimeout";
}

export function createCommandRoute(deps: CommandRouteDeps): RouteHandler {
  const log = deps.log ?? defaultLog;
  const now = deps.now ?? Date.now;
  const locks = new KeyedMutex();
  const lookups = new KeyedMutex();
  const inFlight = new Map<string, InFlight>();
  const briefJournal = deps.briefJournal ?? deps.journal;
  const journalFor = (spec: CommandSpec) => (spec.journal === "brief" ? briefJournal : deps.journal);
  const canaryTarget = deps.canaryTarget ?? (() => undefined);

  /** The outcome, or a 504 once `deadline` passes (the command itself keeps running). */
  function byDeadline(running: InFlight, deadline: number, commandId: string): Promise<Outcome> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<Outcome>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            status: 504,
            body: failure("timeout", `${running.type} did not finish within ${running.timeoutMs} ms; retry with the same commandId to get its outcome`, commandId),
            definitive: false,
          }),
        Math.max(0, deadline - now()),
      );
    });
    return Promise.race([running.done, late]).finally(() => clearTimeout(timer));
  }

  return async (req: IncomingMessage, body: Buffer): Promise<RouteResponse> => {
    const method = req.method ?? "POST";
    const path = req.url ?? "/";
    const received = now();
    let verified;
    try {
      verified = await verifySignedRequest({ method, path, headers: req.headers, body, keys: deps.keys, nonces: deps.nonces, now });
    } catch (err) {
      if (err instanceof NonceStoreFullError) return plain(503, failure("nonce_store_full", `${err.message}; retry later`));
      throw err;
    }
    if (!verified.ok) {
      log("warn", "auth_rejected", { reason: verified.reason, message: verified.message, remote: req.socket.remoteAddress, keyId: req.headers["x-pg2une-key-id"] });
      return plain(401, failure(verified.reason, verified.message));
    }
    const { commandId, key } = verified;
    const binding: RequestBinding = { method, path, nonce: verified.nonce, commandId };
    const answer = (outcome: Pick<Outcome, "status" | "body">, extra: Record<string, string> = {}) => signed(key, binding, outcome, extra, now);
    const requestSha256 = await sha256Hex(body);

    // Lookup and registration of a commandId happen under its own lock, and an entry leaves
    // inFlight only after its outcome is journaled: a duplicate sees one or the other, never neither.
    const claim = await lookups.run(commandId, NEVER, async (): Promise<Claim> => {
      const running = inFlight.get(commandId);
      if (running) return running.requestSha256 === requestSha256 ? { kind: "running", running } : { kind: "answer", outcome: conflict(commandId) };
      const journaled = (await deps.journal.get(commandId)) ?? (briefJournal !== deps.journal ? await briefJournal.get(commandId) : undefined);
      if (journaled) return journaled.requestSha256 === requestSha256 ? { kind: "journaled", entry: journaled } : { kind: "answer", outcome: conflict(commandId) };

      let json: unknown;
      try {
        json = JSON.parse(body.toString("utf8"));
      } catch (err) {
        return { kind: "answer", outcome: { status: 400, body: failure("invalid_json", `body is not valid JSON: ${(err as Error).message}`, commandId) } };
      }
      const parsed = parseCommand(json);
      if (!parsed.ok) return { kind: "answer", outcome: { status: parsed.status, body: failure(parsed.reason, parsed.message, commandId, parsed.details) } };

      const spec = parsed.spec;
      const timeoutMs = deps.commandTimeoutMs ?? spec.timeoutMs;
      const deadline = received + timeoutMs;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new CommandTimeout(`${spec.type} did not finish within ${timeoutMs} ms`)), Math.max(0, deadline - now()));
      const ctx: CommandContext = { commandId, target: deps.target, canaryTarget, allowKnobs: deps.allowKnobs, signal: controller.signal, deadline, log, canary: deps.canary };
      const done = execute(spec, parsed.command.payload, ctx, deps.targetKey)
        .then(async (outcome) => {
          if (outcome.definitive) await journalFor(spec).put({ commandId, requestSha256, type: spec.type, status: outcome.status, body: outcome.body });
          return outcome;
        })
        .finally(() => {
          clearTimeout(timer);
          inFlight.delete(commandId);
        });
      const entry: InFlight = { requestSha256, done, type: spec.type, timeoutMs };
      inFlight.set(commandId, entry);
      return { kind: "started", running: entry, deadline };
    });

    if (claim.kind === "answer") return answer(claim.outcome);
    if (claim.kind === "journaled") {
      const { entry } = claim;
      log("info", "command_replayed", { commandId, type: entry.type, status: entry.status, storedAt: entry.storedAt });
      return answer(entry, { [JOURNAL_REPLAY_HEADER]: "replay" });
    }
    if (claim.kind === "running") {
      log("info", "command_joined", { commandId, type: claim.running.type });
      return answer(await byDeadline(claim.running, received + claim.running.timeoutMs, commandId), { [JOURNAL_REPLAY_HEADER]: "joined" });
    }
    // The caller hears back by the deadline; a command already running finishes and is journaled.
    const outcome = await byDeadline(claim.running, claim.deadline, commandId);
    const type = claim.running.type;
    log(outcome.status < 400 ? "info" : "warn", "command_done", { commandId, type, keyId: key.id, status: outcome.status, ms: now() - received });
    return answer(outcome);
  };

  async function execute(spec: CommandSpec, payload: unknown, ctx: CommandContext, targetKey: string): Promise<Outcome> {
    const handler = COMMAND_HANDLERS[spec.type as keyof typeof COMMAND_HANDLERS] as (p: unknown, c: CommandContext) => Promise<unknown>;
    let startedAt = "";
    const start = () => {
      startedAt = new Date(now()).toISOString();
      return handler(payload, ctx);
    };
    try {
      const result = spec.mutating ? await locks.run(targetKey, ctx.signal, start) : await start();
      const checked = spec.result.safeParse(result);
      if (!checked.success) {
        log("error", "command_result_invalid", { commandId: ctx.commandId, type: spec.type, issues: checked.error.issues });
        return { status: 500, body: failure("internal", `${spec.type} produced a result that does not match its schema`, ctx.commandId), definitive: false };
      }
      const body = { ok: true, commandId: ctx.commandId, type: spec.type, startedAt, finishedAt: new Date(now()).toISOString(), result: checked.data };
      return { status: 200, body: JSON.stringify(body), definitive: true };
    } catch (err) {
      if (err instanceof CommandRefusal) return { status: err.status, body: failure(err.reason, err.message, ctx.commandId, err.details), definitive: true };
      if (err instanceof CommandTimeout || isStatementTimeout(err) || ctx.signal.aborted) {
        return { status: 504, body: failure("timeout", `${spec.type} was stopped at its deadline: ${(err as Error).message}`, ctx.commandId), definitive: false };
      }
      if (isConnectionProblem(err)) return { status: 503, body: failure("target_unavailable", (err as Error).message, ctx.commandId), definitive: false };
      log("error", "command_failed", { commandId: ctx.commandId, type: spec.type, error: String(err), stack: (err as Error).stack });
      return { status: 500, body: failure("internal", `${spec.type} failed: ${(err as Error).message}`, ctx.commandId), definitive: false };
    }
  }
}

function failure(reason: AuthFailureReason | CommandFailureReason, message: string, commandId?: string, details?: unknown): string {
  const body: CommandFailure = { ok: false, error: message, reason };
  if (commandId !== undefined) body.commandId = commandId;
  if (details !== undefined) body.details = details;
  return JSON.stringify(body);
}

function conflict(commandId: string): Pick<Outcome, "status" | "body"> {
  return {
    status: 409,
    body: failure("command_id_conflict", `commandId ${commandId} was already used for a different command body; use a new commandId`, commandId),
  };
}

function plain(status: number, body: string): RouteResponse {
  return { status, body };
}

async function signed(key: SigningKey, request: RequestBinding, outcome: Pick<Outcome, "status" | "body">, extra: Record<string, string>, now: () => number): Promise<RouteResponse> {
  const headers = await signResponse({ key, request, status: outcome.status, body: outcome.body, now });
  return { status: outcome.status, headers: { ...headers, ...extra }, body: outcome.body };
}
