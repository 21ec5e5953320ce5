/**
 * The direct knobs path end to end inside workerd, against the rollout lab's own PostgreSQL and
 * runner with pgbench running a sort-heavy query (an ordered-set aggregate over 40 000 rows,
 * which sorts in memory at the default work_mem = 4MB):
 *
 * - the optimizer's proposal goes baseline → propose → apply → stabilize → gate and ends kept
 *   or rolled back, every step in the timeline; the object is aborted mid-window and resumes;
 * - work_mem = 64kB forced through the same path makes every sort spill to disk (measured here
 *   beforehand: −33 % tps, +45 % latency) and is rolled back with its reason, work_mem restored;
 * - a runner that stops answering mid-window: the step times out, the rollback cannot reach the
 *   runner and is reported failed while it keeps retrying, and completes once the runner is back.
 */
import { env } from "cloudflare:workers";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseKeyRing } from "../../src/protocol";
import { createRunnerClient } from "../../src/runner-client";
import { apiJson, crashRollout, labTarget, optimize, rolloutLab, runOf, timeline, waitForRunEnd, type StatusBody } from "./rollout-support";

const LOAD = "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM rd_sort;\n";
/** Seconds, not minutes: 2 s samples (throughput judged by qps), 6 s windows. Defaults stay production-sane. */
const FAST = { sampleEveryMs: 2_000, baselineWindowMs: 6_000, settleMs: 1_000, directStabilizationMs: 6_000, stepTimeoutMs: 15_000, resumeCheckMs: 2_000 };

let load: { id: string } | undefined;
let runnerUrl: string;

async function resetKnobs(): Promise<void> {
  const key = parseKeyRing(env.PG2UNE_RUNNER_KEYS).get("test")!;
  await createRunnerClient({ url: runnerUrl, key }).send("reset_config", {});
}

beforeAll(async () => {
  ({ runnerUrl } = await rolloutLab.stack());
  for (const sql of ["drop table if exists rd_sort", "create table rd_sort (v float8)", "insert into rd_sort select random() from generate_series(1, 40000)", "analyze rd_sort"]) await rolloutLab.sql(sql);
  await resetKnobs();
  load = await rolloutLab.startLoad(LOAD, 2, 300);
  await new Promise((r) => setTimeout(r, 1_500));
}, 60_000);

afterEach(async () => {
  await rolloutLab.startRunner().catch(() => undefined);
  await resetKnobs();
});

afterAll(async () => {
  if (load) {
    const bench = await rolloutLab.stopLoad(load.id);
    // Nothing the rollouts did may fail a client's transaction (pgbench is stopped early, so
    // it prints no totals: every error it met would be a line of its output).
    expect(bench.abortedClients).toBe(0);
    expect(bench.errorLines).toEqual([]);
  }
  await rolloutLab.sql("drop table if exists rd_sort");
});

async function liveWorkMem(target: string): Promise<string> {
  const { body } = await apiJson<{ settings: Array<{ name: string; value: string }> }>(`/api/config?target=${target}`);
  return body.settings.find((s) => s.name === "work_mem")!.value;
}

describe("direct knobs path", () => {
  it("optimizer proposal: every step in the timeline, kept or rolled back; aborted mid-window it resumes", async () => {
    const target = await labTarget("rd");
    const started = await optimize(target, { action: "knobs", mode: "direct", timings: FAST });
    expect(started.status).toBe(202);
    let aborted = false;
    await waitForRunEnd(target, 120_000, async (s: StatusBody) => {
      if (!aborted && s.run?.step === "sample-direct-2") {
        aborted = true;
        await crashRollout(target);
      }
    });
    const run = await runOf(started.body.run_id);
    const text = timeline(run).join("\n");
    expect(["kept", "rolled_back"], text).toContain(run.outcome);
    expect(aborted).toBe(true);
    for (const step of [
      /reading the current configuration/,
      /loading the last snapshots/,
      /measuring the baseline live/,
      /live baseline: \d+ sub-windows/,
      /optimizer proposed \d+ settings/,
      /will change /,
      /applying reload-context settings/,
      /applied /,
      /gate promoted|gate direct: (pass|FAIL)/,
    ])
      expect(text).toMatch(step);
    expect(text).toMatch(/before\/after windows/);
    expect(run.baseline_metrics).toMatchObject({ source: "live" });
    expect(run.result_metrics).toMatchObject({ claim: expect.stringMatching(/improvement|regression|none/) });
    expect(run.observations).toEqual([expect.objectContaining({ score_type: "deployment" })]);
    if (run.outcome === "rolled_back") expect(text).toMatch(/previous settings restored/);
  }, 150_000);

  it("a harmful configuration (work_mem = 64kB on a sort-heavy load) is rolled back with its reason", async () => {
    const target = await labTarget("rd-bad");
    expect(await liveWorkMem(target)).toBe("4MB");
    const started = await optimize(target, { action: "knobs", mode: "direct", force_config: { work_mem: "64kB" }, timings: FAST });
    expect(started.status).toBe(202);
    const end = await waitForRunEnd(target, 120_000);
    expect(end.state).toBe("rolled_back");
    const run = await runOf(started.body.run_id);
    const text = timeline(run).join("\n");
    expect(run.outcome, text).toBe("rolled_back");
    expect(run.reason).toMatch(/vs baseline: .*(qps -\d+\.\d %|p99 \+\d+\.\d %)/);
    expect(text).toMatch(/forced configuration: work_mem = 64kB/);
    expect(text).toMatch(/applied work_mem = 64kB/);
    expect(text).toMatch(/gate direct: FAIL/);
    expect(text).toMatch(/previous settings restored: work_mem = \(reset\)/);
    expect(run.improvement_pct!).toBeLessThan(0);
    expect(run.observations).toEqual([expect.objectContaining({ score_type: "deployment", score: run.improvement_pct })]);
    expect(await liveWorkMem(target)).toBe("4MB");
    // Rolled back: the old normal is still the normal, detection keeps its baselines.
    const status = await apiJson<{ last_optimization_time: string | null; last_promotion_time: string | null }>(`/api/status?target=${target}`);
    expect(status.body.last_optimization_time).not.toBeNull();
    expect(status.body.last_promotion_time).toBeNull();
  }, 150_000);

  it("a runner gone mid-window: step timeout → rollback, reported failed while it retries, completed when the runner is back", async () => {
    const target = await labTarget("rd-gone");
    const timings = { ...FAST, stepTimeoutMs: 3_000, retryDelayMs: 500, rollbackRetryBaseMs: 500, rollbackRetryMaxMs: 1_000, rollbackMaxAttempts: 2 };
    const started = await optimize(target, { action: "knobs", mode: "direct", force_config: { random_page_cost: "1.5" }, timings });
    expect(started.status).toBe(202);
    let stopped = false;
    let sawFailed: StatusBody | undefined;
    await waitForRunEnd(target, 120_000, async (s: StatusBody) => {
      if (!stopped && s.run?.step === "sample-direct-1") {
        stopped = true;
        await rolloutLab.stopRunner();
      }
      if (stopped && !sawFailed && s.state === "failed") {
        sawFailed = s;
        await rolloutLab.startRunner();
      }
    });
    expect(sawFailed, "the failed rollback was reported").toBeDefined();
    expect(sawFailed).toMatchObject({ busy: true, run: { rollbackPending: true, outcome: "failed" } });
    expect(sawFailed!.run!.reason).toMatch(/rollback could not complete after 2 attempts .*still retrying/);
    const run = await runOf(started.body.run_id);
    const text = timeline(run).join("\n");
    expect(text).toMatch(/did not answer sample-direct-\d within its step timeout \(3 s\)/);
    expect(text).toMatch(/rolling back/);
    expect(text).toMatch(/outcome failed: rollback could not complete/);
    expect(run.outcome).toBe("rolled_back");
    expect(text).toMatch(/outcome rolled_back: rolled_back \(after \d+ failed attempts\)/);
  }, 150_000);
});
