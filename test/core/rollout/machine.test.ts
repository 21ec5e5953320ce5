/**
 * The rollout state machine, transition by transition: every path, re-delivery after a crash
 * (same step → same commands and commandIds), timeouts, and rollbacks that keep retrying.
 */
import { describe, expect, it } from "vitest";
import {
  advance,
  effectOf,
  startRun,
  stepKey,
  type RunState,
  type StartRequest,
  type Transition,
} from "../../../src/core/rollout";
import { derive, metricsItemOf, type MetricsItem } from "../../../src/core/metrics";
import { MB, READ_CONFIG_RESULT, SimNode, fail, input, ok, proposal, runWindow, runnerOk } from "./fixtures";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const RUN = "r-0001";
const target = { name: "t1", runnerUrl: "http://127.0.0.1:7070", runnerKeyId: "test", totalRamMb: 4096 };
const fast = { sampleEveryMs: 1_500, baselineWindowMs: 4_500, directStabilizationMs: 4_500, settleMs: 500, stepTimeoutMs: 10_000, retryDelayMs: 1_000, canaryStepMs: 2_000, verifyWindowMs: 2_000, rollbackRetryBaseMs: 1_000, rollbackRetryMaxMs: 8_000, rollbackMaxAttempts: 3 };
const request = (over: Partial<StartRequest> = {}): StartRequest => ({ action: "knobs", mode: "direct", target, timings: fast, ...over });

const steady = () => new SimNode(1000, { "1": { rate: 2000, meanMs: 0.5 }, "2": { rate: 200, meanMs: 4 } });

const commandsOf = (t: Transition) => {
  const e = effectOf(t.state);
  return e && e.kind === "runner" ? e.commands : [];
};

const APPLY_RESULT = {
  applied: [
    { name: "random_page_cost", value: "1.1", context: "user", previous: null },
    { name: "work_mem", value: "16MB", context: "user", previous: "8MB" },
  ],
  skippedNeedsRestart: [],
  pendingRestart: [],
  errors: [],
  reloaded: true,
};

/** Start → read_config → empty history → live baseline → proposal. Returns the apply transition. */
function throughProposal(node: SimNode, over: Partial<StartRequest> = {}): Transition {
  let t = startRun(request(over), RUN, T0);
  expect(t.state.phase).toBe("capturing_baseline");
  expect(commandsOf(t)).toEqual([{ commandId: `${RUN}.read-config.1`, type: "read_config", payload: {} }]);
  t = runnerOk(t, T0 + 10, READ_CONFIG_RESULT);
  expect(t.effect).toMatchObject({ kind: "load_history", until: T0 + 10, since: T0 + 10 - 120_000 });
  t = ok(t, { kind: "history", items: [], workloadClass: null }, T0 + 20);
  expect(t.state.step).toMatchObject({ kind: "sample", purpose: "baseline", index: 0, count: 4 });
  t = runWindow(t, { primary: node });
  if (over.forceConfig) return t;
  expect(t.state.phase).toBe("optimizing");
  expect(t.state.baselineSource).toBe("live");
  expect(t.state.baseline).toHaveLength(3);
  expect(t.effect).toMatchObject({ kind: "propose", request: { totalRamMb: 4096, serverMajor: 15, seed: t.state.seed } });
  const now = t.due!;
  return ok(
    t,
    {
      kind: "proposal",
      proposal: proposal(
        { work_mem: 16 * MB, random_page_cost: 1.1, shared_buffers: 1024 * MB, jit: true },
        { work_mem: "16MB", random_page_cost: "1.1", shared_buffers: "1GB", jit: "on" },
      ),
      note: null,
    },
    now,
  );
}

describe("direct knobs path", () => {
  it("baseline → propose → apply → stabilize → gate pass → kept, restart knobs reported as canary only", () => {
    const node = steady();
    let t = throughProposal(node);
    expect(t.state.phase).toBe("direct");
    expect(t.state.plan!.apply.map((k) => k.name)).toEqual(["random_page_cost", "work_mem"]);
    expect(t.state.plan!.canaryOnly.map((k) => k.name)).toEqual(["shared_buffers"]);
    expect(t.state.plan!.unchanged).toEqual(["jit"]);
    expect(t.state.notes.join(" ")).toMatch(/canary only .*shared_buffers 128MB → 1GB/);
    expect(commandsOf(t)).toEqual([
      { commandId: `${RUN}.apply.1`, type: "apply_config", payload: { settings: { random_page_cost: "1.1", work_mem: "16MB" }, restartKnobs: "skip" } },
    ]);
    const applyAt = t.due!;
    t = runnerOk(t, applyAt + 50, APPLY_RESULT);
    expect(t.state.step).toMatchObject({ kind: "sample", purpose: "direct", index: 0, count: 4 });
    expect(t.due).toBe(applyAt + 50 + fast.settleMs);
    node.queries["1"]!.meanMs = 0.45; // a little faster
    t = runWindow(t, { primary: node });
    expect(t.state.phase).toBe("promoted");
    expect(t.state.outcome).toBe("kept");
    expect(t.effect).toBeNull();
    expect(t.due).toBeNull();
    expect(t.state.gates[0]!.verdict.pass).toBe(true);
    expect(t.state.result!.summary.improvementPct).not.toBeNull();
    expect(t.state.result!.summary.statement).toMatch(/before\/after windows/);
  });

  it("gate fails → rollback restores exactly what was written: RESET where there was no entry, the old entry otherwise", () => {
    const node = steady();
    let t = throughProposal(node);
    t = runnerOk(t, t.due! + 10, APPLY_RESULT);
    node.queries["2"]!.meanMs = 40; // much slower: p99 way up
    node.scale(0.7);
    t = runWindow(t, { primary: node });
    expect(t.state.rollback?.reason).toMatch(/vs baseline: .*(tps|p99)/);
    expect(t.state.step).toEqual({ kind: "restore" });
    expect(t.state.phase).toBe("direct");
    expect(commandsOf(t)).toEqual([
      { commandId: `${RUN}.restore.1.reset`, type: "reset_config", payload: { knobs: ["random_page_cost"] } },
      { commandId: `${RUN}.restore.1.rewrite`, type: "apply_config", payload: { settings: { work_mem: "8MB" }, restartKnobs: "skip" } },
    ]);
    t = runnerOk(t, t.due! + 10, { reset: [{ name: "random_page_cost", previous: "1.1" }], pendingRestart: [], reloaded: true }, APPLY_RESULT);
    expect(t.state).toMatchObject({ phase: "rolled_back", outcome: "rolled_back", due: null });
    expect(t.state.reason).toMatch(/vs baseline/);
    expect(t.events.at(-1)).toMatchObject({ kind: "outcome", state: "rolled_back" });
  });

  it("a proposal equal to the current config (or restart-only) changes nothing: no_change, idle", () => {
    let t = startRun(request(), RUN, T0);
    t = runnerOk(t, T0, READ_CONFIG_RESULT);
    t = ok(t, { kind: "history", items: [], workloadClass: "oltp" }, T0);
    t = runWindow(t, { primary: steady() });
    expect(t.state.workloadClass).toBe("oltp");
    t = ok(t, { kind: "proposal", proposal: proposal({ shared_buffers: 512 * MB, work_mem: 4 * MB }, { shared_buffers: "512MB", work_mem: "4MB" }), note: null }, t.due!);
    expect(t.state).toMatchObject({ phase: "idle", outcome: "no_change", due: null });
    expect(t.state.reason).toMatch(/every change needs a restart/);
  });

  it("uses stored history for the baseline when there is enough of it", () => {
    let t = startRun(request(), RUN, T0);
    t = runnerOk(t, T0, READ_CONFIG_RESULT);
    const item = (i: number) => ({ ...HISTORY_ITEM, sample_id: `s${i}`, snapshot_time: new Date(T0 - (3 - i) * 30_000).toISOString() });
    t = ok(t, { kind: "history", items: [item(0), item(1), item(2)], workloadClass: "mixed" }, T0 + 1);
    expect(t.state).toMatchObject({ baselineSource: "history", phase: "optimizing", workloadClass: "mixed", workloadClassSource: "history" });
    expect(t.state.baseline).toHaveLength(3);
  });

  it("history unreadable → baseline measured live, and the run says so", () => {
    let t = startRun(request(), RUN, T0);
    t = runnerOk(t, T0, READ_CONFIG_RESULT);
    t = fail(t, "internal", "database unreachable", T0 + 5);
    expect(t.state.step).toMatchObject({ kind: "sample", purpose: "baseline" });
    expect(t.state.notes.join()).toMatch(/baseline measured live/);
  });

  it("an invalid forced configuration stops before anything changes", () => {
    let t = throughProposal(steady(), { forceConfig: { work_mem: "1kB" } });
    expect(t.state).toMatchObject({ phase: "failed", outcome: "failed", due: null });
    expect(t.state.reason).toMatch(/work_mem/);
    expect(t.state.sent.apply).toBe(false);
  });

  it("a forced configuration goes through the same path and gates", () => {
    const node = steady();
    let t = throughProposal(node, { forceConfig: { work_mem: "64kB" } });
    expect(t.state.proposal).toMatchObject({ source: "forced", objective: "forced" });
    expect(commandsOf(t)[0]).toMatchObject({ type: "apply_config", payload: { settings: { work_mem: "64kB" } } });
  });
});

describe("crash safety: the same step yields the same commands", () => {
  it("a JSON round trip of the state (what storage keeps) gives identical effects and commandIds", () => {
    let t = throughProposal(steady());
    const stored = JSON.parse(JSON.stringify(t.state)) as RunState;
    expect(effectOf(stored)).toEqual(effectOf(t.state));
    t = runnerOk(t, t.due! + 10, APPLY_RESULT);
    t = runnerOk(t, t.due!, steady().sampleAt(t.due!));
    const again = JSON.parse(JSON.stringify(t.state)) as RunState;
    expect(effectOf(again)).toEqual(effectOf(t.state));
    expect(commandsOf(t)[0]!.commandId).toBe(`${RUN}.sample-direct-1.1.primary`);
  });

  it("a repeated or stale delivery changes nothing", () => {
    const t = throughProposal(steady());
    const applied = runnerOk(t, t.due! + 10, APPLY_RESULT);
    // the same answer delivered again for the step already left behind
    const replay = advance(applied.state, { kind: "done", stepKey: "apply", attempt: 1, output: { kind: "runner", results: [APPLY_RESULT] } }, t.due! + 20);
    expect(replay.state).toEqual(applied.state);
    expect(replay.events).toEqual([]);
  });
});

describe("timeouts and retries", () => {
  it("a lost answer is re-sent with the same commandId until the step's deadline, then rolls back", () => {
    let t = throughProposal(steady());
    const due = t.due!;
    expect(t.state.deadline).toBe(due + fast.stepTimeoutMs);
    t = fail(t, "unreachable", "connection refused", due + 100);
    expect(t.state.step.kind).toBe("apply");
    expect(t.due).toBe(due + 100 + fast.retryDelayMs);
    expect(commandsOf(t)[0]!.commandId).toBe(`${RUN}.apply.1`);
    expect(t.events[0]).toMatchObject({ kind: "retry" });
    t = fail(t, "unreachable", "connection refused", due + fast.stepTimeoutMs + 1);
    expect(t.state.rollback!.reason).toMatch(/did not answer apply within its step timeout \(10 s\)/);
    // The apply's outcome is unknown: resolve it by re-sending the very same command.
    expect(t.state.step).toEqual({ kind: "resolve", of: "apply" });
    expect(commandsOf(t)).toEqual([{ commandId: `${RUN}.apply.1`, type: "apply_config", payload: { settings: { random_page_cost: "1.1", work_mem: "16MB" }, restartKnobs: "skip" } }]);
    t = runnerOk(t, t.due! + 10, APPLY_RESULT);
    expect(t.state.step).toEqual({ kind: "restore" });
    t = runnerOk(t, t.due! + 10, { reset: [], pendingRestart: [], reloaded: true }, APPLY_RESULT);
    expect(t.state.outcome).toBe("rolled_back");
  });

  it("a refused apply changed nothing: rolled back without restoring", () => {
    let t = throughProposal(steady());
    t = fail(t, "refused", "invalid_config: work_mem below the server's minimum", t.due!);
    expect(t.state.step).toEqual({ kind: "resolve", of: "apply" });
    t = fail(t, "refused", "invalid_config: work_mem below the server's minimum", t.due!);
    expect(t.state).toMatchObject({ outcome: "rolled_back", due: null });
  });

  it("resuming long after a step's deadline rolls back instead of trusting a holey window", () => {
    let t = throughProposal(steady());
    t = runnerOk(t, t.due! + 10, APPLY_RESULT);
    const late = t.state.deadline! + 60_000;
    t = advance(t.state, input(t.state, "overdue"), late);
    expect(t.state.rollback!.reason).toMatch(/interrupted: sample-direct-0 resumed 60 s after its deadline/);
    expect(t.state.step).toEqual({ kind: "restore" });
  });

  it("an on-time resume is not overdue", () => {
    const t = throughProposal(steady());
    expect(advance(t.state, input(t.state, "overdue"), t.due!).state).toEqual(t.state);
  });

  it("a rollback that keeps failing is retried with backoff, reported failed after N attempts, and retried on", () => {
    const node = steady();
    let t = throughProposal(node);
    t = runnerOk(t, t.due! + 10, APPLY_RESULT);
    node.scale(0.1);
    t = runWindow(t, { primary: node });
    expect(t.state.step.kind).toBe("restore");
    const delays: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const now = t.due!;
      t = fail(t, "unreachable", "runner down", now);
      delays.push(t.due! - now);
      expect(commandsOf(t)[0]!.commandId).toBe(`${RUN}.restore.${i + 1}.reset`);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000]);
    expect(t.state).toMatchObject({ phase: "failed", outcome: "failed" });
    expect(t.state.due).not.toBeNull(); // still retrying
    expect(t.state.reason).toMatch(/rollback could not complete after 3 attempts .*still retrying/);
    t = fail(t, "unreachable", "runner down", t.due!);
    expect(t.due! - t.state.rollback!.startedAt).toBeGreaterThan(0);
    t = runnerOk(t, t.due!, { reset: [], pendingRestart: [], reloaded: true }, APPLY_RESULT);
    expect(t.state).toMatchObject({ phase: "rolled_back", outcome: "rolled_back", due: null });
    expect(t.events.at(-1)!.message).toMatch(/after 4 failed attempts/);
  });

  it("a runner that never answers read_config ends the run failed, nothing changed", () => {
    let t = startRun(request(), RUN, T0);
    t = fail(t, "unreachable", "connection refused", T0 + fast.stepTimeoutMs + 1);
    expect(t.state).toMatchObject({ phase: "failed", outcome: "failed", due: null });
    expect(t.state.notes).toContain("nothing was changed on the target");
  });
});

describe("queries and holistic", () => {
  const ADVICE = (recs: number) => ({
    database: "postgres",
    serverVersionNum: 150008,
    extensions: { hypopg: { version: "1.4", createdNow: false }, pgQualstats: { used: false, predicates: 0, note: "" }, pgHintPlan: { available: false, note: "" } },
    thresholds: { minCalls: 10, topByMeanTime: 20, topByTotalTime: 20, minInitialCost: 100, minCostSavingsPct: 50, multiColumnMinCost: 100, maxColumnsPerTable: 6, maxIndexes: 5, explainTimeoutMs: 10000, writeHeavyRatio: 1, writeHeavyPolicy: "skip", minMeasuredImprovementPct: 20, measureWindowMs: 60000, minCallsPerWindow: 20, keepUnmeasured: false, lockTimeoutMs: 5000, buildTimeoutMs: 3600000, minHintImprovementPct: 20 },
    queries: [],
    ignoredStatements: 0,
    recommendations: Array.from({ length: recs }, () => ({
      name: "pg2une_orders_customer_id",
      schema: "public",
      table: "orders",
      columns: ["customer_id"],
      ddl: 'CREATE INDEX CONCURRENTLY "pg2une_orders_customer_id" ON "public"."orders" ("customer_id")',
      queries: [{ queryId: "42", costBefore: 1000, costAfter: 8 }],
      weightedSavings: 99_000,
      estimatedSizeBytes: 8192,
      writeHeavy: null,
    })),
    covered: [],
    skippedTables: [],
    hints: [],
    warnings: [],
  });
  const RECORD = {
    indexName: "pg2une_orders_customer_id",
    schema: "public",
    tableName: "orders",
    columns: ["customer_id"],
    ddl: 'CREATE INDEX CONCURRENTLY "pg2une_orders_customer_id" ON "public"."orders" ("customer_id")',
    status: "kept",
    measured: { queryIds: ["42"], buildMs: 30, before: { calls: 100, meanMs: 5, stddevMs: 1 }, after: { calls: 100, meanMs: 0.1, stddevMs: 0.02 }, verdict: "improved", improvementPct: 98, reason: "mean 5 → 0.1 ms" },
    createdAt: "2026-03-01T12:00:01.000Z",
    droppedAt: null,
  };

  it("queries: HypoPG advice → create_index (measured by the runner) → kept", () => {
    let t = startRun(request({ action: "queries", indexThresholds: { measureWindowMs: 2000 } }), RUN, T0);
    expect(t.state.phase).toBe("optimizing");
    expect(commandsOf(t)).toMatchObject([{ commandId: `${RUN}.hypo-indexes.1`, type: "hypo_indexes", payload: { thresholds: { measureWindowMs: 2000, minCostSavingsPct: 50 } } }]);
    t = runnerOk(t, T0 + 1, ADVICE(1));
    expect(t.state.phase).toBe("direct");
    expect(commandsOf(t)[0]).toMatchObject({
      commandId: `${RUN}.create-index.1`,
      payload: { indexes: [{ schema: "public", table: "orders", columns: ["customer_id"], queryIds: ["42"] }], thresholds: { measureWindowMs: 2000 } },
    });
    t = runnerOk(t, T0 + 2, { records: [RECORD] });
    expect(t.state).toMatchObject({ phase: "promoted", outcome: "kept" });
  });

  it("queries: nothing worth an index → no_change, saying why", () => {
    let t = startRun(request({ action: "queries" }), RUN, T0);
    t = runnerOk(t, T0 + 1, ADVICE(0));
    expect(t.state).toMatchObject({ outcome: "no_change", phase: "idle" });
    expect(t.state.reason).toMatch(/no index would cut/);
  });

  it("holistic: indexes first, then the knob path with a fresh baseline", () => {
    let t = startRun(request({ action: "holistic" }), RUN, T0);
    t = runnerOk(t, T0 + 1, ADVICE(1));
    t = runnerOk(t, T0 + 2, { records: [{ ...RECORD, status: "dropped", droppedAt: "2026-03-01T12:00:02.000Z" }] });
    expect(t.state.step.kind).toBe("read_config");
    expect(t.state.phase).toBe("capturing_baseline");
    expect(commandsOf(t)[0]!.commandId).toBe(`${RUN}.read-config.1`);
  });

  it("queries: create_index unanswered past its timeout → its outcome is resolved with the same commandId", () => {
    let t = startRun(request({ action: "queries" }), RUN, T0);
    t = runnerOk(t, T0 + 1, ADVICE(1));
    const id = commandsOf(t)[0]!.commandId;
    t = fail(t, "unreachable", "no answer", t.state.deadline! + 1);
    expect(t.state.step).toEqual({ kind: "resolve", of: "create_index" });
    expect(commandsOf(t)[0]!.commandId).toBe(id);
    t = runnerOk(t, t.due!, { records: [RECORD] });
    expect(t.state.outcome).toBe("kept");
  });
});

/** A stored snapshot as the history read returns it: derived from two samples of a steady node. */
const HISTORY_ITEM: MetricsItem = (() => {
  const node = new SimNode(1000, { "1": { rate: 3000, meanMs: 0.3 } });
  const first = node.sampleAt(T0 - 120_000);
  return metricsItemOf(derive(first, node.sampleAt(T0 - 90_000)));
})();
