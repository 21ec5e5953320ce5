/**
 * The canary path of the state machine: launch → configure → 5 → 25 → 50 % (measured shares,
 * gates on the baseline and canary vs primary in the same window) → switchover → promoted, and
 * every way back.
 */
import { describe, expect, it } from "vitest";
import { effectOf, startRun, type RunState, type StartRequest, type Transition } from "../../../src/core/rollout";
import { MB, READ_CONFIG_RESULT, SimNode, fail, ok, proposal, runWindow, runnerOk } from "./fixtures";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const RUN = "r-canary";
const target = { name: "t1", runnerUrl: "http://127.0.0.1:7070", runnerKeyId: "test", totalRamMb: 4096 };
const fast = { sampleEveryMs: 1_500, baselineWindowMs: 4_500, canaryStepMs: 4_500, verifyWindowMs: 3_000, settleMs: 500, stepTimeoutMs: 10_000, retryDelayMs: 1_000, rollbackRetryBaseMs: 1_000, rollbackMaxAttempts: 3 };
const request = (over: Partial<StartRequest> = {}): StartRequest => ({ action: "knobs", mode: "canary", target, timings: fast, ...over });

const LAUNCH = { canary: { backend: "local", host: "127.0.0.2", port: 5432, launchedAt: "2026-03-01T12:00:05.000Z" }, launched: true, launchMs: 1400 };
const CONFIGURE = {
  method: "restart",
  knobs: [
    { name: "shared_buffers", value: "1GB", context: "postmaster", verdict: "testable", applied: true, inEffect: true },
    { name: "work_mem", value: "16MB", context: "user", verdict: "testable", applied: true, inEffect: true },
  ],
  notCanaryTestable: [],
  restartMs: 900,
};
const route = (pct: number, measured: number | null, routedBack: { reason: string; fromPct: number } | null = null) => ({
  canaryPct: pct,
  canarySlots: Math.round((pct / 100) * 20),
  slotCount: 20,
  plannedShare: pct / 100,
  measuredShare: measured,
  measurement: null,
  poolRefillMs: 250,
  routedBack,
});
const SWITCHOVER = {
  newPrimary: { host: "127.0.0.2", port: 5432 },
  pauseMs: 412,
  shutdownCheckpointLsn: "0/3000028",
  replayedLsn: "0/3000028",
  formerPrimary: { host: "127.0.0.1", port: 5432, role: "standby", rewound: false },
  steps: [{ step: "pause", ms: 12 }],
};
const TEARDOWN = { tornDown: { backend: "local", host: "127.0.0.2", port: 5432, launchedAt: null }, routedBack: true };

const cmds = (t: Transition) => {
  const e = effectOf(t.state);
  return e && e.kind === "runner" ? e.commands : [];
};

/** A cluster whose read-only traffic is split p % to the canary. */
class Cluster {
  primary = new SimNode(1000, { "1": { rate: 2000, meanMs: 0.5 }, "2": { rate: 200, meanMs: 4 } });
  canary = new SimNode(0, { "1": { rate: 0, meanMs: 0.5 } });
  canaryMeanMs = 0.5;
  split(pct: number): void {
    const moved = pct / 100;
    this.primary.tps = 1000 - 500 * moved;
    this.primary.queries["1"]!.rate = 2000 * (1 - moved);
    this.canary.tps = 500 * moved;
    this.canary.queries["1"] = { rate: 2000 * moved, meanMs: this.canaryMeanMs };
  }
}

function toLaunch(c: Cluster): Transition {
  let t = startRun(request(), RUN, T0);
  t = runnerOk(t, T0, READ_CONFIG_RESULT);
  t = ok(t, { kind: "history", items: [], workloadClass: "oltp" }, T0);
  t = runWindow(t, { primary: c.primary });
  t = ok(t, { kind: "proposal", proposal: proposal({ shared_buffers: 1024 * MB, work_mem: 16 * MB }, { shared_buffers: "1GB", work_mem: "16MB" }), note: null }, t.due!);
  expect(t.state.phase).toBe("canary");
  // canary mode: restart-context knobs are part of the rollout
  expect(t.state.plan!.apply.map((k) => k.name)).toEqual(["shared_buffers", "work_mem"]);
  expect(t.state.plan!.canaryOnly).toEqual([]);
  expect(cmds(t)).toEqual([{ commandId: `${RUN}.launch.1`, type: "launch_canary", payload: {} }]);
  return t;
}

function toShift(c: Cluster, t0: Transition, pct: number): Transition {
  let t = t0;
  expect(cmds(t)).toEqual([{ commandId: `${RUN}.route-${pct}.1`, type: "route_traffic", payload: { canary_pct: pct } }]);
  c.split(pct);
  t = runnerOk(t, t.due!, route(pct, (pct / 100) * 0.96));
  expect(t.state.step).toMatchObject({ kind: "sample", purpose: "canary", pct, index: 0 });
  expect(cmds(t).map((x) => [x.commandId, x.payload.node])).toEqual([
    [`${RUN}.sample-canary-${pct}-0.1.primary`, "primary"],
    [`${RUN}.sample-canary-${pct}-0.1.canary`, "canary"],
  ]);
  return t;
}

describe("canary path", () => {
  it("5 → 25 → 50 % with measured shares, gates in the same window, switchover, promoted", () => {
    const c = new Cluster();
    let t = toLaunch(c);
    t = runnerOk(t, t.due!, LAUNCH);
    expect(cmds(t)).toEqual([{ commandId: `${RUN}.configure.1`, type: "configure_canary", payload: { settings: { shared_buffers: "1GB", work_mem: "16MB" } } }]);
    t = runnerOk(t, t.due!, CONFIGURE);
    for (const pct of [5, 25, 50]) {
      t = toShift(c, t, pct);
      t = runWindow(t, { primary: c.primary, canary: c.canary });
      const gate = t.state.gates.at(-1)!;
      expect(gate.step).toBe(`canary-${pct}`);
      expect(gate.verdict.pass, gate.verdict.reason ?? "").toBe(true);
    }
    expect(cmds(t)).toEqual([{ commandId: `${RUN}.switchover.1`, type: "switchover", payload: {} }]);
    t = runnerOk(t, t.due!, SWITCHOVER);
    expect(t.state.step).toMatchObject({ kind: "sample", purpose: "verify" });
    c.primary.tps = 1050;
    t = runWindow(t, { primary: c.primary });
    expect(t.state).toMatchObject({ phase: "promoted", outcome: "promoted", due: null });
    expect(t.state.canary.steps.map((s) => [s.pct, s.measuredShare])).toEqual([
      [5, 0.048],
      [25, 0.24],
      [50, 0.48],
    ]);
    expect(t.state.canary.switchover!.pauseMs).toBe(412);
    expect(t.state.result!.summary.improvementPct).not.toBeNull();
  });

  it("a slower canary fails the canary-vs-primary gate at 5 % and is rolled back: route back, tear down", () => {
    const c = new Cluster();
    c.canaryMeanMs = 0.8; // +60 % on the same query; +50 % with the 0.1 ms floor
    let t = toLaunch(c);
    t = runnerOk(t, t.due!, LAUNCH);
    t = runnerOk(t, t.due!, CONFIGURE);
    t = toShift(c, t, 5);
    t = runWindow(t, { primary: c.primary, canary: c.canary });
    expect(t.state.rollback!.reason).toMatch(/at 5 %: canary vs primary: canary latency \+50\.0 % vs primary/);
    expect(cmds(t)).toEqual([{ commandId: `${RUN}.route-back.1`, type: "route_traffic", payload: { canary_pct: 0 } }]);
    t = runnerOk(t, t.due!, route(0, 0));
    expect(cmds(t)).toEqual([{ commandId: `${RUN}.teardown.1`, type: "teardown_canary", payload: {} }]);
    t = runnerOk(t, t.due!, TEARDOWN);
    expect(t.state).toMatchObject({ phase: "rolled_back", outcome: "rolled_back", due: null });
  });

  it("the runner routing back on its own (canary stopped answering) rolls the run back", () => {
    const c = new Cluster();
    let t = toLaunch(c);
    t = runnerOk(t, t.due!, LAUNCH);
    t = runnerOk(t, t.due!, CONFIGURE);
    t = runnerOk(t, t.due!, route(5, null, { reason: "canary did not answer twice", fromPct: 5 }));
    expect(t.state.rollback!.reason).toMatch(/canary stopped answering/);
    expect(t.state.step.kind).toBe("route_back");
  });

  it("a refused route back still tears down (the teardown routes back first)", () => {
    const c = new Cluster();
    let t = toLaunch(c);
    t = fail(t, "refused", "launch_canary: invalid_config: no PgBouncer routing configured", t.due!);
    expect(t.state.step.kind).toBe("route_back");
    t = fail(t, "refused", "route_traffic: not_configured", t.due!);
    expect(t.state.step.kind).toBe("teardown");
    t = runnerOk(t, t.due!, { tornDown: null, routedBack: false });
    expect(t.state.outcome).toBe("rolled_back");
  });

  it("a crash mid-shift at 25 % resumes the same sample with the same commandIds", () => {
    const c = new Cluster();
    let t = toLaunch(c);
    t = runnerOk(t, t.due!, LAUNCH);
    t = runnerOk(t, t.due!, CONFIGURE);
    t = toShift(c, t, 5);
    t = runWindow(t, { primary: c.primary, canary: c.canary });
    t = toShift(c, t, 25);
    t = runnerOk(t, t.due!, c.primary.sampleAt(t.due!), c.canary.sampleAt(t.due!));
    const stored = JSON.parse(JSON.stringify(t.state)) as RunState;
    expect(effectOf(stored)).toEqual(effectOf(t.state));
    expect(cmds(t)[0]!.commandId).toBe(`${RUN}.sample-canary-25-1.1.primary`);
  });

  it("a switchover without an answer is resolved, never torn down blindly: completed → promoted", () => {
    const c = new Cluster();
    let t = toLaunch(c);
    t = runnerOk(t, t.due!, LAUNCH);
    t = runnerOk(t, t.due!, CONFIGURE);
    for (const pct of [5, 25, 50]) {
      t = toShift(c, t, pct);
      t = runWindow(t, { primary: c.primary, canary: c.canary });
    }
    t = fail(t, "unreachable", "no answer", t.state.deadline! + 1);
    expect(t.state.step).toEqual({ kind: "resolve", of: "switchover" });
    expect(cmds(t)).toEqual([{ commandId: `${RUN}.switchover.1`, type: "switchover", payload: {} }]);
    t = fail(t, "unreachable", "still no answer", t.due!);
    expect(t.state.step).toEqual({ kind: "resolve", of: "switchover" });
    t = runnerOk(t, t.due!, SWITCHOVER);
    expect(t.state.rollback).toBeNull();
    t = runWindow(t, { primary: c.primary });
    expect(t.state.outcome).toBe("promoted");
    expect(t.state.notes.join()).toMatch(/switchover completed after the rollback started/);
  });

  it("a refused switchover changed nothing: route back and tear down", () => {
    const c = new Cluster();
    let t = toLaunch(c);
    t = runnerOk(t, t.due!, LAUNCH);
    t = runnerOk(t, t.due!, CONFIGURE);
    for (const pct of [5, 25, 50]) {
      t = toShift(c, t, pct);
      t = runWindow(t, { primary: c.primary, canary: c.canary });
    }
    t = fail(t, "refused", "switchover: pause_timeout: PAUSE took longer than 5 s; resumed, nothing changed", t.due!);
    expect(t.state.step).toEqual({ kind: "resolve", of: "switchover" });
    t = fail(t, "refused", "switchover: pause_timeout", t.due!);
    expect(t.state.step.kind).toBe("route_back");
  });

  it("canary settings not in effect roll back before any traffic moves", () => {
    const c = new Cluster();
    let t = toLaunch(c);
    t = runnerOk(t, t.due!, LAUNCH);
    t = runnerOk(t, t.due!, { ...CONFIGURE, knobs: [{ ...CONFIGURE.knobs[0]!, inEffect: false, why: "restart failed" }, CONFIGURE.knobs[1]!] });
    expect(t.state.rollback!.reason).toMatch(/shared_buffers \(restart failed\)/);
    expect(t.state.step.kind).toBe("route_back");
  });
});
