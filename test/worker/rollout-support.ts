/**
 * Helpers for the rollout tests in workerd: the API with the token, the rollout lab (its own
 * cluster, runner and pgbench loads, see test/support/rollout-lab.ts), a target row pointing at
 * the lab's runner, and waiting for a run to end.
 */
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect, inject } from "vitest";
import { parseWorkerConfig } from "../../src/config";
import { rolloutStub } from "../../src/rollout/stub";
import { openDb } from "../../src/store/db";
import { targets } from "../../src/store/schema";
import { TEST_API_TOKEN } from "../support/worker-constants";

declare module "vitest" {
  export interface ProvidedContext {
    rolloutLabUrl: string;
  }
}

const headers = { authorization: `Bearer ${TEST_API_TOKEN}`, "content-type": "application/json" };

export function api(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(`http://pg2une.test${path}`, { ...init, headers: { ...headers, ...(init.headers ?? {}) } });
}

export async function apiJson<T = Record<string, unknown>>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await api(path, init);
  return { status: res.status, body: (await res.json()) as T };
}

export function optimize(target: string, body: Record<string, unknown>) {
  return apiJson<{ run_id: string; state: string; error?: string; details?: Record<string, unknown> }>(`/api/optimize?target=${target}`, { method: "POST", body: JSON.stringify(body) });
}

async function lab<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${inject("rolloutLabUrl")}${path}`, { ...init, headers: { "content-type": "application/json" } });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(`rollout lab ${path}: ${res.status} ${body.error}`);
  return body;
}

export const rolloutLab = {
  stack: () => lab<{ runnerUrl: string }>("/stack", { method: "POST" }),
  sql: (sql: string) => lab<{ rows: Array<Record<string, unknown>> }>("/sql", { method: "POST", body: JSON.stringify({ sql }) }),
  startLoad: (script: string, clients: number, seconds: number) => lab<{ id: string }>("/load", { method: "POST", body: JSON.stringify({ script, clients, seconds }) }),
  stopLoad: (id: string) => lab<{ exitCode: number | null; processed: number; failed: number; abortedClients: number; output: string; errorLines: string[] }>(`/load/${id}`, { method: "DELETE" }),
  stopRunner: () => lab("/runner/stop", { method: "POST" }),
  startRunner: () => lab("/runner/start", { method: "POST" }),
};

/** A target row for the lab's runner with a unique name (one rollout DO per test). */
export async function labTarget(prefix: string, mode: "direct" | "canary" = "direct"): Promise<string> {
  const { runnerUrl } = await rolloutLab.stack();
  const name = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const { db, close } = openDb(parseWorkerConfig(env));
  try {
    await db.insert(targets).values({ name, runnerUrl, runnerKeyId: "test", mode, totalRamMb: 2048, cpus: 2, storage: "ssd" });
  } finally {
    await close();
  }
  return name;
}

export interface StatusBody {
  state: string;
  busy: boolean;
  step: string | null;
  cooldown_left_seconds: number;
  run: { id: string; step: string; outcome: string | null; reason: string | null; rollbackPending: boolean } | null;
  unflushed_records: number;
}

/** Polls /api/status until the target is not busy (and its records are written). */
export async function waitForRunEnd(target: string, timeoutMs: number, onPoll?: (s: StatusBody) => Promise<void> | void): Promise<StatusBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await apiJson<StatusBody>(`/api/status?target=${target}`);
    await onPoll?.(body);
    if (!body.busy && body.unflushed_records === 0) return body;
    if (Date.now() > deadline) throw new Error(`run on ${target} did not end within ${timeoutMs} ms: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface RunBody {
  id: string;
  state: string;
  outcome: string;
  reason: string | null;
  improvement_pct: number | null;
  result_metrics: Record<string, unknown> | null;
  baseline_metrics: Record<string, unknown> | null;
  config: { proposed: Record<string, unknown> | null; previous: Record<string, unknown> | null };
  events: Array<{ seq: number; kind: string; state: string; message: string; data: Record<string, unknown> | null }>;
  managed_indexes: Array<{ index_name: string; status: string }>;
  observations: Array<{ score: number; score_type: string }>;
  details: Record<string, unknown>;
}

export async function runOf(id: string): Promise<RunBody> {
  const { status, body } = await apiJson<RunBody>(`/api/optimization/${id}`);
  expect(status).toBe(200);
  return body;
}

/** The timeline as "kind state: message" lines, for assertions and for the report. */
export function timeline(run: RunBody): string[] {
  return run.events.map((e) => `${e.kind} ${e.state}: ${e.message}`);
}

/**
 * Resets one target's Durable Object as an eviction or crash would (ctx.abort()): the instance
 * is gone mid-step, its storage and alarm stay. Only that object: abortAllDurableObjects() would
 * also reset objects other test files are using at the same time.
 */
export async function crashRollout(target: string): Promise<void> {
  const stub = rolloutStub(env, target);
  const MARK = "__crashTestMark";
  await runInDurableObject(stub, (instance) => {
    (instance as unknown as Record<string, boolean>)[MARK] = true;
  });
  await runInDurableObject(stub, (_instance, state) => {
    state.abort("test: crash the rollout object mid-step");
  }).catch(() => undefined);
  // A later call meets a new instance (the mark is gone) with the same storage; calls that still
  // reach the aborted one fail with the abort reason.
  for (let i = 0; ; i++) {
    const fresh = await runInDurableObject(rolloutStub(env, target), (instance) => (instance as unknown as Record<string, boolean>)[MARK] !== true).catch(() => undefined);
    if (fresh !== undefined) {
      expect(fresh, "the rollout object was replaced by a fresh instance").toBe(true);
      return;
    }
    if (i > 50) throw new Error(`the rollout object of ${target} did not come back after the crash`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
