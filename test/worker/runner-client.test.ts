/**
 * The protocol module and the Worker-side runner client inside workerd, talking to a real
 * runner process on 127.0.0.1 (started by the worker project's globalSetup).
 * (workerd prints "uncaught exception … Network connection lost" for every refused connection,
 * even when the fetch's rejection is handled: that noise comes from the unreachable-runner test.)
 */
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { hmacSha256, MemoryNonceStore, parseKeyRing, signRequest, toHex, verifySignedRequest } from "../../src/protocol";
import { createRunnerClient, RunnerRejectedError, RunnerUnreachableError } from "../../src/runner-client";

// Provided by test/support/worker-global-setup.ts (which src/tsconfig.json does not include).
declare module "vitest" {
  export interface ProvidedContext {
    runnerUrl: string;
    deadRunnerUrl: string;
  }
}

const keys = parseKeyRing(env.PG2UNE_RUNNER_KEYS);
const key = keys.get("test")!;
const runnerUrl = inject("runnerUrl");

describe("protocol module in workerd", () => {
  it("HMAC-SHA256 matches RFC 4231 case 2", async () => {
    const mac = await hmacSha256(new TextEncoder().encode("Jefe"), "what do ya want for nothing?");
    expect(toHex(mac)).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("signs and verifies a request (as /api/ingest will), refusing a replay", async () => {
    const nonces = new MemoryNonceStore();
    const body = JSON.stringify({ sample: 1 });
    const signed = await signRequest({ key, method: "POST", path: "/api/ingest", body, commandId: "sample-1" });
    const request = new Request("http://pg2une.test/api/ingest", { method: "POST", headers: signed.headers, body: signed.body });
    const bytes = new Uint8Array(await request.arrayBuffer());
    const first = await verifySignedRequest({ method: request.method, path: "/api/ingest", headers: request.headers, body: bytes, keys, nonces });
    expect(first).toMatchObject({ ok: true, commandId: "sample-1", keyId: "test" });
    const again = await verifySignedRequest({ method: "POST", path: "/api/ingest", headers: request.headers, body: bytes, keys, nonces });
    expect(again).toMatchObject({ ok: false, reason: "replayed" });
  });
});

describe("runner client (workerd → real runner)", () => {
  it("sends a signed read_config and gets a verified, typed result", async () => {
    const client = createRunnerClient({ url: runnerUrl, key });
    const answer = await client.send("read_config", { knobs: ["work_mem"] });
    expect(answer.ok).toBe(true);
    expect(answer.result.settings[0]).toMatchObject({ name: "work_mem", unit: "kB", context: "user" });
  });

  it("a lost answer is retried with the same commandId; the runner answers from its journal", async () => {
    const seen: Array<{ commandId: string | null; nonce: string | null }> = [];
    let dropped = false;
    // Fault injection on a real exchange: the first answer is received, then "lost".
    const lossy: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      seen.push({ commandId: headers.get("x-pg2une-command-id"), nonce: headers.get("x-pg2une-nonce") });
      const res = await fetch(input, init);
      if (!dropped) {
        dropped = true;
        await res.arrayBuffer();
        throw new TypeError("Network connection lost.");
      }
      return res;
    };
    const client = createRunnerClient({ url: runnerUrl, key, fetch: lossy, sleep: async () => undefined });
    const answer = await client.sendRaw({ type: "read_config", payload: { knobs: ["jit"] } });
    expect(answer).toMatchObject({ status: 200, verified: true, attempts: 2, replay: "replay" });
    expect((answer.body as { result: { settings: Array<{ name: string }> } }).result.settings.map((s) => s.name)).toEqual(["jit"]);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.commandId).toBe(seen[0]!.commandId);
    expect(seen[1]!.nonce).not.toBe(seen[0]!.nonce);
  });

  it("4xx is final and typed: wrong key → RunnerRejectedError 401, no retry", async () => {
    let attempts = 0;
    const counting: typeof fetch = (input, init) => {
      attempts++;
      return fetch(input, init);
    };
    const client = createRunnerClient({ url: runnerUrl, key: { id: "test", secret: new Uint8Array(32).fill(7) }, fetch: counting });
    const err = await client.send("read_config", {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunnerRejectedError);
    expect(err).toMatchObject({ status: 401, reason: "bad_signature", verified: false });
    expect(attempts).toBe(1);

    const bad = await createRunnerClient({ url: runnerUrl, key })
      .send("apply_config", { settings: { work_mem: "-1" } })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, reason: "invalid_config", verified: true });
  });

  it("an unreachable runner → RunnerUnreachableError after bounded retries with growing backoff", async () => {
    const delays: number[] = [];
    const client = createRunnerClient({
      url: inject("deadRunnerUrl"),
      key,
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 150 },
      sleep: async (ms) => void delays.push(ms),
      random: () => 0.999,
    });
    const err = await client.send("read_config", {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunnerUnreachableError);
    expect(err).toMatchObject({ attempts: 3, lastStatus: undefined });
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[1]).toBeGreaterThan(delays[0]!);
    expect(delays[1]).toBeLessThanOrEqual(150);
  });
});
