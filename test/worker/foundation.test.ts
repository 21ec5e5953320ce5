import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { parseWorkerConfig } from "../../src/config";
import { openDb } from "../../src/store/db";
import { rawSamples, targets } from "../../src/store/schema";
import { rolloutStub } from "../../src/rollout/stub";
import { TEST_API_TOKEN } from "../support/worker-constants";

const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };

describe("Worker foundation", () => {
  it("GET / answers the health JSON without a token", async () => {
    const res = await exports.default.fetch("http://pg2une.test/");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", app: "pg2une", version: expect.any(String) });
  });

  it("writes and reads pg2une's database through the Neon driver", async () => {
    const { db, close } = openDb(parseWorkerConfig(env));
    try {
      const sampleId = `s-${crypto.randomUUID()}`;
      await db.insert(rawSamples).values({
        target: "neon-test",
        sampleId,
        collectedAt: new Date("2026-01-01T00:00:00Z"),
        source: "cli",
        body: { hello: "world", n: 42 },
      });
      const rows = await db.select().from(rawSamples).where(eq(rawSamples.sampleId, sampleId));
      expect(rows).toHaveLength(1);
      expect(rows[0]!.body).toEqual({ hello: "world", n: 42 });
      expect(rows[0]!.collectedAt.toISOString()).toBe("2026-01-01T00:00:00.000Z");
    } finally {
      await close();
    }
  });

  it("API routes refuse requests without the token (401 with a reason)", async () => {
    const none = await exports.default.fetch("http://pg2une.test/api/status");
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: expect.stringContaining("missing API token") });
    const wrong = await exports.default.fetch("http://pg2une.test/api/status", { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: "invalid API token" });
  });

  it("GET /api/status reads the target's Durable Object; unknown target is 404", async () => {
    const res = await exports.default.fetch("http://pg2une.test/api/status", { headers: auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ target: "default", state: "idle" });
    const unknown = await exports.default.fetch("http://pg2une.test/api/status?target=nope", { headers: auth });
    expect(unknown.status).toBe(404);
  });

  it("Durable Object RPC persists state in its storage", async () => {
    const stub = rolloutStub(env, "rpc-test");
    expect((await stub.status()).lastTickAt).toBeNull();
    await stub.recordTick(1_700_000_000_000);
    expect((await stub.status()).lastTickAt).toBe(1_700_000_000_000);
    const stored = await runInDurableObject(stub, (_instance, state) => state.storage.get<{ lastTickAt: number }>("status"));
    expect(stored?.lastTickAt).toBe(1_700_000_000_000);
  });

  it("scheduled() ticks every enabled target, env default and database rows", async () => {
    const { db, close } = openDb(parseWorkerConfig(env));
    await db
      .insert(targets)
      .values({ name: "second", runnerUrl: "http://127.0.0.1:7071", runnerKeyId: "test" })
      .onConflictDoNothing();
    await close();
    const at = Date.UTC(2026, 10, 26, 12, 0, 0);
    const controller = createScheduledController({ scheduledTime: at, cron: "* * * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await rolloutStub(env, "default").status()).lastTickAt).toBe(at);
    expect((await rolloutStub(env, "second").status()).lastTickAt).toBe(at);
  });
});
