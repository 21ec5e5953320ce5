/**
 * Anyone who can reach the runner's port must be unable to make it do anything. Each refused
 * request below carries a real change (work_mem = 64MB); afterwards the server's config, its
 * postgresql.auto.conf and the runner's journal prove that nothing ran.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HEADER_COMMAND_ID, HEADER_KEY_ID, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, parseKeyRing, type SigningKey } from "../../../src/protocol";
import { startTestCluster, type TestCluster } from "../../support/postgres";
import { startRunnerProcess, type RunnerProcess } from "../../support/runner-process";
import { sendPrepared, sendSigned, type RawAnswer } from "../../support/signed-request";
import { TEST_RUNNER_KEYS } from "../../support/worker-constants";

const key = parseKeyRing(TEST_RUNNER_KEYS).get("test")!;
const CHANGE = { type: "apply_config", payload: { settings: { work_mem: "64MB" } } };

let cluster: TestCluster;
let runner: RunnerProcess;
let autoConfBefore: string;

const autoConf = () => readFileSync(join(cluster.dataDir, "postgresql.auto.conf"), "utf8");
const workMem = async () => (await cluster.query<{ work_mem: string }>("show work_mem"))[0]!.work_mem;
const journalEntries = () => readdirSync(join(runner.stateDir, "journal")).filter((f) => f.endsWith(".json"));

function expectRefused(res: RawAnswer, reason: string) {
  expect(res.status).toBe(401);
  expect(res.json).toMatchObject({ ok: false, reason, error: expect.any(String) });
  // A refusal is not signed: the runner did not accept the caller's key.
  expect(res.headers.get(HEADER_SIGNATURE)).toBeNull();
}

beforeAll(async () => {
  cluster = await startTestCluster();
  runner = await startRunnerProcess({ targetUrl: cluster.url(), keys: TEST_RUNNER_KEYS });
  autoConfBefore = autoConf();
});
afterAll(async () => {
  await runner?.destroy();
  await cluster?.destroy();
});

describe("refused requests execute nothing", () => {
  it("unsigned → 401 unsigned", async () => {
    const res = await fetch(`${runner.url}/v1/commands`, { method: "POST", body: JSON.stringify(CHANGE) });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ ok: false, reason: "unsigned", error: expect.stringContaining("not signed") });
  });

  it("a key id the runner does not know → 401 unknown_key", async () => {
    const stranger: SigningKey = { id: "stranger", secret: new Uint8Array(32).fill(1) };
    expectRefused(await sendSigned(runner.url, stranger, CHANGE), "unknown_key");
  });

  it("the right key id with the wrong secret → 401 bad_signature", async () => {
    const impostor: SigningKey = { id: "test", secret: new Uint8Array(32).fill(2) };
    expectRefused(await sendSigned(runner.url, impostor, CHANGE), "bad_signature");
  });

  it("a tampered body (one byte) → 401 bad_signature", async () => {
    const res = await sendSigned(runner.url, key, CHANGE, {
      tamper: (req) => {
        const i = new TextDecoder().decode(req.body).indexOf("64MB");
        req.body[i] = "1".charCodeAt(0); // 64MB → 14MB
      },
    });
    expectRefused(res, "bad_signature");
  });

  it("stale or future timestamps (> 300 s off) → 401 stale", async () => {
    expectRefused(await sendSigned(runner.url, key, CHANGE, { at: Date.now() - 301_000 }), "stale");
    expectRefused(await sendSigned(runner.url, key, CHANGE, { at: Date.now() + 301_000 }), "stale");
  });

  it("a malformed signature header → 401 malformed_auth", async () => {
    expectRefused(await sendSigned(runner.url, key, CHANGE, { tamper: (r) => void (r.headers[HEADER_TIMESTAMP] = "soon") }), "malformed_auth");
  });

  it("property: flipping random bytes in any signed field → 401", async () => {
    const fields = ["body", HEADER_KEY_ID, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_COMMAND_ID, HEADER_SIGNATURE] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), fc.nat(), fc.integer({ min: 1, max: 255 }), async (field, index, mask) => {
        const res = await sendSigned(runner.url, key, CHANGE, {
          tamper: (req) => {
            if (field === "body") {
              const i = index % req.body.length;
              req.body[i] = req.body[i]! ^ mask;
              return;
            }
            const bytes = new TextEncoder().encode(req.headers[field]!);
            const i = index % bytes.length;
            bytes[i] = bytes[i]! ^ mask;
            // Header values must stay printable ASCII to be sent at all; others are a client error.
            const value = String.fromCharCode(...bytes.map((b) => (b < 0x21 || b > 0x7e ? 0x7e : b)));
            fc.pre(value !== req.headers[field]);
            req.headers[field] = value;
          },
        });
        expect(res.status).toBe(401);
        expect(["bad_signature", "unknown_key", "malformed_auth", "stale"]).toContain(res.json.reason);
      }),
      { numRuns: 60 },
    );
  });

  it("after all of the above: config, postgresql.auto.conf and journal untouched", async () => {
    expect(await workMem()).toBe("4MB");
    expect(autoConf()).toBe(autoConfBefore);
    expect(journalEntries()).toEqual([]);
  });
});

describe("replay", () => {
  it("the same signed request twice → the second is 401 replayed and does not run (also after a restart)", async () => {
    const first = await sendSigned(runner.url, key, CHANGE);
    expect(first).toMatchObject({ status: 200, verified: true });
    expect(await workMem()).toBe("64MB");
    // Undo it with another command, so a replay that ran would show up as 64MB again.
    expect((await sendSigned(runner.url, key, { type: "reset_config", payload: {} })).status).toBe(200);
    expect(await workMem()).toBe("4MB");
    const binding = { key, path: "/v1/commands", nonce: first.sent.headers[HEADER_NONCE]!, commandId: first.sent.headers[HEADER_COMMAND_ID]! };

    expectRefused(await sendPrepared(`${runner.url}/v1/commands`, first.sent, binding), "replayed");
    await runner.restart();
    expectRefused(await sendPrepared(`${runner.url}/v1/commands`, first.sent, binding), "replayed");
    await runner.kill(); // a crash, not a clean stop: the nonce was fsync'd before it ran
    await runner.restart();
    expectRefused(await sendPrepared(`${runner.url}/v1/commands`, first.sent, binding), "replayed");
    expect(await workMem()).toBe("4MB");
    expect(autoConf()).toBe(autoConfBefore);
  });
});

describe("GET /healthz", () => {
  it("needs no signature and says nothing secret", async () => {
    const res = await fetch(`${runner.url}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["app", "status", "uptime_s", "version"]);
    const text = JSON.stringify(body);
    expect(text).not.toContain(TEST_RUNNER_KEYS.split(":")[1]);
    expect(text).not.toContain(String(cluster.port));
  });
});
