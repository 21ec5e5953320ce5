/**
 * The cron decision loop inside workerd: scheduled() → the target's Durable Object status() →
 * analysis of the stored history (the real ingest path: samples derived into snapshots in the
 * real PostgreSQL) → rules/pg2une.dl → should_act → the object's start(). The object is real; the
 * runs it starts point at a loopback port where nothing listens, so they stay busy (their
 * runner does not answer) and change nothing anywhere.
 *
 * History: one-minute samples pushed as an agent would (so the tick's collect is "skipped:
 * agent_pushed" and the decision runs on them) from a server whose transaction rate drops from
 * 1000 to 700 tps for the newest 12 minutes — CUSUM and E-Divisive both see it (confidence 0.30).
 */
import { env } from "cloudflare:workers";
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import worker from "../../src/index";
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { parseWorkerConfig } from "../../src/config";
import { DEFAULT_DETECT_CONFIG } from "../../src/core/detect";
import type { RawSample } from "../../src/core/metrics";
import type { RunState } from "../../src/core/rollout";
import { chooseAction } from "../../src/decide/choose-action";
import { decide, decisionProgram } from "../../src/decide/rules";
import { decideForTarget } from "../../src/loop/decide-target";
import { rolloutStub } from "../../src/rollout/stub";
import { runScheduledTick, type TargetTick } from "../../src/scheduled";
import { openDb, type DbHandle } from "../../src/store/db";
import { storeSample } from "../../src/store/samples";
import { optimizationRuns, targets } from "../../src/store/schema";
import { findTarget } from "../../src/store/targets";
import { sample, statement } from "../support/metrics-fixtures";
import { apiJson, optimize } from "./rollout-support";

declare module "vitest" {
  export interface ProvidedContext {
    deadRunnerUrl: string;
  }
}

const MINUTE = 60_000;
const SAMPLES = 80;

let handle: DbHandle;
const mine: string[] = [];

beforeAll(() => {
  handle = openDb(parseWorkerConfig(env));
});
afterAll(async () => {
  // Other test files tick every enabled target: leave nothing behind that a later tick would act on.
  if (mine.length) await handle.db.update(targets).set({ enabled: false }).where(inArray(targets.name, mine));
  await handle.close();
});

async function newTarget(prefix: string): Promise<string> {
  const name = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  await handle.db.insert(targets).values({ name, runnerUrl: inject("deadRunnerUrl"), runnerKeyId: "test", mode: "direct", totalRamMb: 2048 });
  mine.push(name);
  return name;
}

/**
 * `count` one-minute samples, the newest `newestAgoMs` ago, of a server running `tpsAt(i)`
 * transactions a second (±1 % deterministic noise), two statements of constant cost each.
 */
function history(target: string, tpsAt: (i: number) => number, opts: { count?: number; newestAgoMs?: number } = {}): RawSample[] {
  const count = opts.count ?? SAMPLES;
  const newest = Date.now() - (opts.newestAgoMs ?? 10_000);
  let seed = 11;
  const noise = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return (seed / 2_147_483_648 - 0.5) * 0.02;
  };
  let xacts = 1_000_000;
  const out: RawSample[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) xacts += Math.round(tpsAt(i) * (1 + noise()) * 60);
    out.push({
      ...sample({
        at: newest - (count - 1 - i) * MINUTE,
        database: { xact_commit: xacts, xact_rollback: 0, blks_hit: xacts * 100, blks_read: xacts, active_time: xacts * 0.5, idle_in_transaction_time: 0 },
        top: [
          statement("42", { calls: 2 * xacts, total_exec_time_ms: 2 * xacts * 0.2, stddev_exec_time_ms: 0.05, rows: 2 * xacts, shared_blks_hit: 100 * xacts }),
          statement("43", { calls: xacts, total_exec_time_ms: xacts * 0.05, stddev_exec_time_ms: 0.01, rows: xacts }),
        ],
      }),
      target,
    });
  }
  return out;
}

const degraded = (i: number) => (i < SAMPLES - 12 ? 1_000 : 700);

async function push(target: string, samples: RawSample[]): Promise<void> {
  for (const s of samples) await storeSample(handle.db, target, s, "agent");
}

const tickOf = (report: { targets: TargetTick[] }, name: string) => report.targets.find((t) => t.name === name)!;

async function runsOf(target: string) {
  return handle.db.select().from(optimizationRuns).where(eq(optimizationRuns.target, target));
}

describe("the cron decision loop", () => {
  it("a degraded history: the tick starts a knobs run (trigger auto, with its cause); the next tick holds, the object being busy", async () => {
    const target = await newTarget("loop-deg");
    await push(target, history(target, degraded));
    const report = await runScheduledTick(env, Date.now());
    const t = tickOf(report, target);
    expect(t.collect).toMatchObject({ status: "skipped", reason: "agent_pushed" });
    expect(t.ok).toBe(true);
    expect(t.decision).toMatchObject({ status: "started", should_act: ["knobs"], action: "knobs", confidence: 0.3, refused: null, suppress_action: false });
    expect(t.decision.run_id).toMatch(/^r-/);
    expect(t.decision.detectors).toEqual(expect.arrayContaining([expect.stringMatching(/^cusum\(tps, S=\d+\.\d > h=4\)$/), expect.stringMatching(/^e-divisive\(tps, magnitude 0\.\d+\)$/)]));
    expect(t.decision.cusum.tps).toMatchObject({ status: "monitoring", degraded: true, h: 4 });
    expect(t.decision.why).toBe("started knobs (direct): start knobs: tps degraded (confidence 0.30)");

    // The facts the decision recorded give the same action through the rules as deployed.
    expect(t.decision.facts).not.toBeNull();
    expect(chooseAction(decide(t.decision.facts!).shouldAct).action).toBe("knobs");

    const status = await rolloutStub(env, target).status();
    expect(status).toMatchObject({ busy: true, run: { id: t.decision.run_id, action: "knobs", mode: "direct", trigger: "auto" } });
    expect(status.lastDecision).toMatchObject({ status: "started", run_id: t.decision.run_id });
    // RPC's serialized type of RunState collapses to never; it is the stored RunState.
    const state = (await rolloutStub(env, target).currentRunState()) as unknown as RunState | null;
    expect(state!.cause).toMatchObject({ source: "cron", confidence: 0.3, summary: "start knobs: tps degraded (confidence 0.30)" });
    expect(state!.workloadClass).toBe("oltp");

    // GET /api/status shows the decision; the run row says who started it and why.
    const api = await apiJson<{ last_decision: { status: string; run_id: string; at: string } }>(`/api/status?target=${target}`);
    expect(api.body.last_decision).toMatchObject({ status: "started", run_id: t.decision.run_id });
    for (let i = 0; (await runsOf(target)).length === 0 && i < 50; i++) await new Promise((r) => setTimeout(r, 100));
    const [row] = await runsOf(target);
    expect(row).toMatchObject({ id: t.decision.run_id, trigger: "auto" });
    expect((row!.details as { cause: { source: string } }).cause.source).toBe("cron");

    // Next tick: the same degradation, but the run is in flight — held, nothing new.
    const next = tickOf(await runScheduledTick(env, Date.now()), target);
    expect(next.decision).toMatchObject({ status: "held", should_act: [], blocked: [{ action: "knobs", reason: "rollout_active" }], run_id: null });
    expect(await runsOf(target)).toHaveLength(1);
  });

  it("the object busy since the status was read (two deciders racing): start() is refused, reported, nothing new starts", async () => {
    const target = await newTarget("loop-race");
    await push(target, history(target, degraded));
    const stub = rolloutStub(env, target);
    const stale = await stub.status();
    expect(stale.busy).toBe(false);
    // Someone else starts a run in between (here: a person through the API).
    const manual = await optimize(target, { action: "knobs" });
    expect(manual.status).toBe(202);

    const config = parseWorkerConfig(env);
    const t = (await findTarget(handle.db, config, target))!;
    const decision = await decideForTarget(env, handle.db, t, {
      tickMs: Date.now(),
      collect: { status: "skipped", reason: "agent_pushed", agent_sample_at: new Date().toISOString() },
      program: decisionProgram(),
      detectConfig: DEFAULT_DETECT_CONFIG,
      status: stale,
    });
    expect(decision).toMatchObject({ status: "refused", should_act: ["knobs"], action: "knobs", run_id: manual.body.run_id, refused: { reason: "busy" } });
    expect(decision.why).toMatch(/^the rules said knobs but the rollout refused \(busy\): run r-.* is in progress/);
    expect((await stub.status()).run).toMatchObject({ id: manual.body.run_id, trigger: "manual" });

    // Through scheduled() itself the fresh status makes the rules hold instead (and the handler never throws).
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await stub.status()).lastDecision).toMatchObject({ status: "held", blocked: [{ action: "knobs", reason: "rollout_active" }] });
    expect((await stub.status()).run!.id).toBe(manual.body.run_id);
  });

  it("this tick's collect failed: no decision, no run, though the stored history is degraded", async () => {
    const target = await newTarget("loop-nocollect");
    // The agent went quiet two minutes ago: the tick asks the runner, which does not answer.
    await push(target, history(target, degraded, { newestAgoMs: 2 * MINUTE }));
    const t = tickOf(await runScheduledTick(env, Date.now()), target);
    expect(t.ok).toBe(false);
    expect(t.collect.status).toBe("failed");
    expect(t.decision).toMatchObject({ status: "skipped", should_act: [], action: null, run_id: null, confidence: null });
    expect(t.decision.why).toMatch(/^no decision: this tick's collect failed \(/);
    const status = await rolloutStub(env, target).status();
    expect(status).toMatchObject({ busy: false, state: "idle", run: null });
    expect(status.lastDecision).toMatchObject({ status: "skipped" });
  });

  it("too little history: detection still learning its baselines, no decision", async () => {
    const target = await newTarget("loop-young");
    await push(target, history(target, () => 1_000, { count: 6 }));
    const t = tickOf(await runScheduledTick(env, Date.now()), target);
    expect(t.decision).toMatchObject({ status: "skipped", should_act: [], run_id: null });
    expect(t.decision.why).toBe("no decision: too little history, 6 snapshots in the history (detection needs 61 to learn its baselines)");
    expect(t.decision.cusum.tps).toMatchObject({ status: "learning_baseline" });
    expect((await rolloutStub(env, target).status()).run).toBeNull();
  });

  it("one target's failure never stops another's decision", async () => {
    const good = await newTarget("loop-iso-good");
    const bad = await newTarget("loop-iso-bad");
    await push(good, history(good, () => 1_000));
    // A key the Worker does not have: its collect fails; the good one is decided all the same.
    await handle.db.update(targets).set({ runnerKeyId: "not-in-the-ring" }).where(eq(targets.name, bad));
    const report = await runScheduledTick(env, Date.now());
    expect(tickOf(report, bad)).toMatchObject({ ok: false, collect: { status: "failed", reason: "no_key" }, decision: { status: "skipped" } });
    expect(tickOf(report, good)).toMatchObject({ ok: true, decision: { status: "no_action", why: "no action: nothing degraded and no query regressed" } });
  });
});
