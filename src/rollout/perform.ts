/**
 * The Durable Object's hands: performs one step's effect (runner commands, a history read, an
 * optimizer call) and reports the outcome in the machine's terms. Never throws: every failure
 * becomes a StepError the state machine decides about.
 */
import { parseWorkerConfig, type WorkerConfig } from "../config";
import type { Effect, RunState, StepError, StepOutput } from "../core/rollout";
import { proposeKnobs } from "../core/rollout/knob-plan";
import { CommandResponseSchema, commandSpec } from "../protocol";
import { RunnerUnreachableError, RunnerUnverifiedResponseError, type RetryPolicy } from "../runner-client";
import { openDb } from "../store/db";
import { latestWorkloadClass, observationsFor } from "../store/runs";
import { snapshotHistory } from "../store/snapshots";
import { runnerFor } from "./runner-for-target";

export type Performed = { ok: true; output: StepOutput } | { ok: false; error: StepError };

/** Per send: one quick retry inside the client; the machine re-sends later until the step deadline. */
export const STEP_RETRY: RetryPolicy = { maxAttempts: 2, baseDelayMs: 500, maxDelayMs: 2_000 };
/** A request never waits less than this, even right at a deadline. */
export const MIN_REQUEST_TIMEOUT_MS = 2_000;
/** Above a command's own timeout: the runner answers 504 by then, this is for the network. */
export const REQUEST_TIMEOUT_MARGIN_MS = 5_000;

export async function perform(env: Env, state: RunState, effect: Effect, now: number): Promise<Performed> {
  let config: WorkerConfig;
  try {
    config = parseWorkerConfig(env);
  } catch (err) {
    return { ok: false, error: { kind: "internal", message: (err as Error).message } };
  }
  switch (effect.kind) {
    case "runner":
      return sendCommands(config, state, effect, now);
    case "load_history":
      return loadHistory(config, state, effect);
    case "propose":
      return propose(config, state, effect);
  }
}

async function sendCommands(config: WorkerConfig, state: RunState, effect: Extract<Effect, { kind: "runner" }>, now: number): Promise<Performed> {
  for (const c of effect.commands) {
    if (!commandSpec(c.type)) return { ok: false, error: { kind: "not_implemented", message: `this build of pg2une does not have the ${c.type} command yet` } };
  }
  const own = Math.max(...effect.commands.map((c) => commandSpec(c.type)!.timeoutMs));
  const left = state.deadline !== null ? state.deadline - now : own;
  const requestTimeoutMs = Math.max(MIN_REQUEST_TIMEOUT_MS, Math.min(own + REQUEST_TIMEOUT_MARGIN_MS, left));
  let client;
  try {
    client = runnerFor(config.PG2UNE_RUNNER_KEYS, state.target, { retry: STEP_RETRY, requestTimeoutMs });
  } catch (err) {
    return { ok: false, error: { kind: "refused", message: (err as Error).message } };
  }
  const sendOne = async (c: (typeof effect.commands)[number]): Promise<Performed | { ok: true; result: unknown }> => {
    try {
      const answer = await client.sendRaw({ type: c.type, payload: c.payload }, { commandId: c.commandId });
      const envelope = CommandResponseSchema.safeParse(answer.body);
      if (!envelope.success) return { ok: false, error: { kind: "invalid_answer", message: `${c.type}: the runner's answer is not a command response` } };
      if (!envelope.data.ok) {
        const f = envelope.data;
        const kind = answer.status === 501 ? "not_implemented" : answer.status >= 500 ? "unreachable" : "refused";
        return { ok: false, error: { kind, message: `${c.type}: ${f.reason}: ${f.error}`, reason: f.reason } };
      }
      return { ok: true, result: envelope.data.result };
    } catch (err) {
      if (err instanceof RunnerUnreachableError) return { ok: false, error: { kind: "unreachable", message: err.message } };
      // An unsigned 5xx is the runner failing before it could sign (an internal error): as good
      // as no answer, so the same commandId may be re-sent. Anything else unverifiable is final.
      if (err instanceof RunnerUnverifiedResponseError) return { ok: false, error: { kind: err.status >= 500 ? "unreachable" : "invalid_answer", message: err.message } };
      return { ok: false, error: { kind: "internal", message: `${c.type}: ${(err as Error).message}` } };
    }
  };
  const answers: Array<Awaited<ReturnType<typeof sendOne>>> = [];
  if (effect.parallel) answers.push(...(await Promise.all(effect.commands.map(sendOne))));
  else {
    for (const c of effect.commands) {
      const a = await sendOne(c);
      answers.push(a);
      if (!a.ok) break;
    }
  }
  // The worst failure decides (a refusal is definitive; a lost answer can be re-sent).
  const failures = answers.filter((a): a is Extract<Performed, { ok: false }> => !a.ok);
  if (failures.length) {
    const rank = { refused: 0, not_implemented: 1, invalid_answer: 2, internal: 3, unreachable: 4 } as const;
    failures.sort((a, b) => rank[a.error.kind] - rank[b.error.kind]);
    return failures[0]!;
  }
  return { ok: true, output: { kind: "runner", results: answers.map((a) => (a as { result: unknown }).result) } };
}

async function loadHistory(config: WorkerConfig, state: RunState, effect: Extract<Effect, { kind: "load_history" }>): Promise<Performed> {
  const { db, close } = openDb(config);
  try {
    const since = new Date(effect.since);
    const until = new Date(effect.until);
    const items = (await snapshotHistory(db, state.target.name, since)).filter((i) => Date.parse(i.snapshot_time) <= effect.until);
    const workloadClass = await latestWorkloadClass(db, state.target.name, since, until);
    return { ok: true, output: { kind: "history", items, workloadClass } };
  } catch (err) {
    return { ok: false, error: { kind: "internal", message: `reading snapshot history: ${(err as Error).message}` } };
  } finally {
    await close().catch(() => undefined);
  }
}

async function propose(config: WorkerConfig, state: RunState, effect: Extract<Effect, { kind: "propose" }>): Promise<Performed> {
  let observations: Awaited<ReturnType<typeof observationsFor>>["observations"] = [];
  let note: string | null = null;
  const { db, close } = openDb(config);
  try {
    const loaded = await observationsFor(db, state.target.name, effect.request.workloadClass);
    observations = loaded.observations;
    if (loaded.skipped) note = `${loaded.skipped} stored observation(s) did not parse and were left out`;
  } catch (err) {
    note = `past observations could not be read (${(err as Error).message}): proposing from the current config and PGTune only`;
  } finally {
    await close().catch(() => undefined);
  }
  try {
    return { ok: true, output: { kind: "proposal", proposal: proposeKnobs(effect.request, observations), note } };
  } catch (err) {
    return { ok: false, error: { kind: "internal", message: `the optimizer could not propose: ${(err as Error).message}` } };
  }
}
