/**
 * The cron's metrics path inside workerd: scheduled() asks each target's real runner (started by
 * the worker project's global setup) to `collect`, stores the sample and its snapshot, leaves
 * alone targets whose agent pushes samples, and reports per target; one dead runner does not
 * stop the others.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import worker from "../../src/index";
import { parseWorkerConfig } from "../../src/config";
import { rolloutStub } from "../../src/rollout/stub";
import { runScheduledTick, type TargetTick } from "../../src/scheduled";
import { openDb, type DbHandle } from "../../src/store/db";
import { storeSample } from "../../src/store/samples";
import { rawSamples, systemSnapshots, targets } from "../../src/store/schema";
import { sample } from "../support/metrics-fixtures";

declare module "vitest" {
  export interface ProvidedContext {
    runnerUrl: string;
    deadRunnerUrl: string;
  }
}

const suffix = crypto.randomUUID().slice(0, 8);
const names = { live: `cron-live-${suffix}`, dead: `cron-dead-${suffix}`, nokey: `cron-nokey-${suffix}`, agent: `cron-agent-${suffix}` };

let handle: DbHandle;
beforeAll(async () => {
  handle = openDb(parseWorkerConfig(env));
  await handle.db.insert(targets).values([
    { name: names.live, runnerUrl: inject("runnerUrl"), runnerKeyId: "test" },
    { name: names.dead, runnerUrl: inject("deadRunnerUrl"), runnerKeyId: "test" },
    { name: names.nokey, runnerUrl: inject("runnerUrl"), runnerKeyId: "not-in-the-ring" },
    { name: names.agent, runnerUrl: inject("deadRunnerUrl"), runnerKeyId: "test" },
  ]);
});
afterAll(async () => {
  // Other test files tick every enabled target: leave nothing behind that would slow them.
  for (const name of Object.values(names)) await handle.db.update(targets).set({ enabled: false }).where(eq(targets.name, name));
  await handle.close();
});

const mine = (ticks: TargetTick[]) => Object.fromEntries(ticks.filter((t) => Object.values(names).includes(t.name)).map((t) => [t.name, t]));

describe("cron tick → runner collect → stored snapshot", () => {
  it("two ticks store two samples; the second snapshot has rates; failures stay per target", async () => {
    const first = await runScheduledTick(env, Date.now());
    const a = mine(first.targets);
    expect(a[names.live]).toMatchObject({ ok: true, tick: "ok", collect: { status: "stored" } });
    expect(a[names.dead]).toMatchObject({ ok: false, tick: "ok", collect: { status: "failed" } });
    expect((a[names.dead]!.collect as { error: string }).error).toMatch(/did not answer collect after 2 attempts/);
    expect(a[names.nokey]).toMatchObject({ ok: false, collect: { status: "failed", reason: "no_key" } });
    expect((a[names.nokey]!.collect as { error: string }).error).toContain('"not-in-the-ring" is not in PG2UNE_RUNNER_KEYS');

    await new Promise((r) => setTimeout(r, 2_500)); // a window long enough for a rate (MIN_WINDOW_SECONDS = 1)
    const second = await runScheduledTick(env, Date.now());
    const b = mine(second.targets)[names.live]!;
    expect(b).toMatchObject({ ok: true, collect: { status: "stored", window_issue: null, reset_detected: false } });
    const collected = b.collect as { sample_id: string; tps: number | null; qps: number | null };
    // The collector's own transaction in the target database counts: never a made-up rate, always > 0 here.
    expect(collected.tps).toBeGreaterThan(0);
    expect(collected.qps).not.toBeNull();

    const raw = await handle.db.select().from(rawSamples).where(eq(rawSamples.target, names.live));
    expect(raw.map((r) => r.source)).toEqual(expect.arrayContaining(["runner"]));
    expect(raw.every((r) => (r.body as { target: string }).target === names.live)).toBe(true);
    const [snap] = await handle.db.select().from(systemSnapshots).where(eq(systemSnapshots.sampleId, collected.sample_id));
    expect(snap!.tps).toBeCloseTo(collected.tps!, 9);
    expect(snap!.windowSeconds).toBeGreaterThan(1);
    expect(second.nonces).toMatchObject({ removed: expect.any(Number) });
  });

  it("a target whose agent pushed within the poll interval is not polled", async () => {
    const now = Date.now();
    await storeSample(handle.db, names.agent, { ...sample({ at: now - 5_000 }), target: names.agent }, "agent");
    const report = await runScheduledTick(env, now);
    expect(mine(report.targets)[names.agent]).toMatchObject({ ok: true, collect: { status: "skipped", reason: "agent_pushed" } });
    // Once the agent has been silent for a poll interval (POLL_INTERVAL_MS = 60 s), the runner is asked again.
    const later = await runScheduledTick(env, now + 61_000);
    expect(mine(later.targets)[names.agent]).toMatchObject({ ok: false, collect: { status: "failed" } });
  });

  it("the exported scheduled() handler runs the same tick (the Durable Object notes it too)", async () => {
    const at = Date.now();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: at, cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await rolloutStub(env, names.live).status()).lastTickAt).toBe(at);
    const raw = await handle.db.select().from(rawSamples).where(eq(rawSamples.target, names.live));
    expect(raw.length).toBeGreaterThanOrEqual(3);
  });
});
