/**
 * GET /api/analysis inside workerd: history stored through storeSample (the real ingest path:
 * raw samples derived into snapshots and per-query rows in the real PostgreSQL), the rollout
 * facts read from the target's real Durable Object, rules/pg2une.dl as deployed.
 */
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { asc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnalysisView } from "../../src/core/analysis";
import { DEFAULT_DETECT_CONFIG } from "../../src/core/detect";
import { seasonalExpectation } from "../../src/core/detect/seasonal";
import { PG_STAT_STATEMENTS_INSTRUCTION, type RawSample } from "../../src/core/metrics";
import { parseWorkerConfig } from "../../src/config";
import { startRun } from "../../src/core/rollout";
import { rolloutStub } from "../../src/rollout/stub";
import { RUN_STORAGE_KEY } from "../../src/rollout/target-rollout";
import { openDb, type DbHandle } from "../../src/store/db";
import { DEFAULT_ANALYSIS_LIMITS, loadAnalysisHistory } from "../../src/store/analysis-history";
import { storeSample } from "../../src/store/samples";
import { systemSnapshots, targets } from "../../src/store/schema";
import { sample, statement } from "../support/metrics-fixtures";
import { TEST_API_TOKEN } from "../support/worker-constants";

const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };
const MINUTE = 60_000;
/** Samples per series: 60 for the CUSUM reference, the rest monitored. */
const SAMPLES = 80;

let handle: DbHandle;
beforeAll(() => {
  handle = openDb(parseWorkerConfig(env));
});
afterAll(async () => {
  await handle.close();
});

const get = (path: string, headers: Record<string, string> = auth) => exports.default.fetch(`http://pg2une.test${path}`, { headers });

async function newTarget(prefix: string): Promise<string> {
  const name = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  await handle.db.insert(targets).values({ name, runnerUrl: "http://127.0.0.1:7071", runnerKeyId: "test" });
  return name;
}

/**
 * One-minute samples ending a minute ago from a server whose transaction rate is `tpsAt(i)`
 * (±1 % deterministic noise). Each transaction runs two statements of constant cost, reads 100
 * buffers (1 from disk) and is busy 0.5 ms, so only the rate changes when `tpsAt` does.
 */
function samplesOf(target: string, tpsAt: (i: number) => number, statements: "available" | "missing" = "available"): RawSample[] {
  const now = Date.now();
  let seed = 7;
  const noise = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return (seed / 2_147_483_648 - 0.5) * 0.02;
  };
  let xacts = 1_000_000;
  const out: RawSample[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    if (i > 0) xacts += Math.round(tpsAt(i) * (1 + noise()) * 60);
    const s = sample({
      at: now - (SAMPLES - i) * MINUTE,
      database: { xact_commit: xacts, xact_rollback: 0, blks_hit: xacts * 100, blks_read: xacts, active_time: xacts * 0.5, idle_in_transaction_time: 0 },
      top: [
        statement("42", { calls: 2 * xacts, total_exec_time_ms: 2 * xacts * 0.2, stddev_exec_time_ms: 0.05, rows: 2 * xacts, shared_blks_hit: 100 * xacts }),
        statement("43", { calls: xacts, total_exec_time_ms: xacts * 0.05, stddev_exec_time_ms: 0.01, rows: xacts }),
      ],
      statements:
        statements === "missing"
          ? {
              available: false,
              reason: "not_preloaded",
              message: "pg_stat_statements is not loaded: it is missing from shared_preload_libraries",
              instruction: PG_STAT_STATEMENTS_INSTRUCTION,
            }
          : undefined,
    });
    out.push({ ...s, target });
  }
  return out;
}

async function store(target: string, samples: RawSample[]): Promise<void> {
  for (const s of samples) await storeSample(handle.db, target, s, "agent");
}

async function analysis(target: string): Promise<AnalysisView> {
  const res = await get(`/api/analysis?target=${target}`);
  expect(res.status).toBe(200);
  return (await res.json()) as AnalysisView;
}

describe("GET /api/analysis", () => {
  it("a tps drop: metric_degraded(tps), E-Divisive confirms, should_act(knobs) with its derivation tree", async () => {
    const target = await newTarget("degraded");
    // 1000 tps, then 700 tps for the newest 12 minutes.
    await store(target, samplesOf(target, (i) => (i < SAMPLES - 12 ? 1_000 : 700)));
    const view = await analysis(target);

    expect(view.history.snapshots).toBe(SAMPLES);
    expect(view.metrics.degraded).toEqual(["tps"]);
    expect(view.metrics.cusum.tps).toMatchObject({ direction: "down", degraded: true, status: "monitoring" });
    expect(view.metrics.cusum.latency_p99?.degraded).toBe(false);
    expect(view.metrics.current.tps).toBeCloseTo(700, -1);
    expect(view.facts.metric_degraded).toEqual([["tps"]]);
    expect(view.facts.otava_change_point?.[0]?.[0]).toBe("tps");
    expect(view.change_points.some((c) => c.metric === "tps" && c.confirms)).toBe(true);
    expect(view.queries.regressions).toEqual([]);
    expect(view.confidence).toMatchObject({ score: 0.3, high: true, components: { cusum: 0.15, otava: 0.15 } });
    expect(view.rollout).toMatchObject({ state: "idle", active: false });
    expect(view.facts.now?.[0]?.[0]).toBeGreaterThan(Date.now() / 1000 - 120);

    expect(view.decision.should_act).toEqual(["knobs"]);
    expect(view.decision.blocked).toEqual([]);
    expect(view.decision.summary).toBe("start knobs: tps degraded (confidence 0.30)");
    // The derivation tree: should_act(knobs) ← action_ready(knobs) ← should_optimize(knobs) ← metric_degraded(tps) …
    const why = view.decision.why.knobs!;
    expect(why).toMatchObject({ kind: "derived", fact: { predicate: "should_act", args: ["knobs"] } });
    const text = view.decision.why_text.knobs!;
    expect(text).toContain("metric_degraded(tps)  (given)");
    expect(text).toContain("high_confidence()  (given)");
    expect(text).toContain("not rollout_active()");

    // The same history while the Durable Object is mid-rollout: ready, but blocked.
    const stub = rolloutStub(env, target);
    // A run in the canary phase as the rollout object stores it (no alarm: it stays there).
    const inFlight = startRun({ action: "knobs", mode: "canary", target: { name: target, runnerUrl: "http://127.0.0.1:9", runnerKeyId: "test", totalRamMb: 4096 } }, "r-analysis-test", Date.now()).state;
    await runInDurableObject(stub, (_instance, state) => state.storage.put(RUN_STORAGE_KEY, { ...inFlight, phase: "canary" }));
    const during = await analysis(target);
    expect(during.rollout).toMatchObject({ state: "canary", active: true });
    expect(during.facts.rollout_active).toEqual([[]]);
    expect(during.decision.should_act).toEqual([]);
    expect(during.decision.blocked).toEqual([{ action: "knobs", reason: "rollout_active" }]);
    expect(during.decision.summary).toBe("hold knobs: rollout_active");
  });

  it("a steady history: nothing degraded, no action", async () => {
    const target = await newTarget("steady");
    await store(target, samplesOf(target, () => 1_000));
    const view = await analysis(target);
    expect(view.history.snapshots).toBe(SAMPLES);
    expect(view.metrics.degraded).toEqual([]);
    expect(view.metrics.cusum.tps).toMatchObject({ status: "monitoring", degraded: false });
    expect(view.facts.metric_degraded).toBeUndefined();
    expect(view.queries.regressions).toEqual([]);
    expect(view.workload.class).toBe("oltp");
    expect(view.confidence.high).toBe(false);
    expect(view.decision).toMatchObject({ should_act: [], blocked: [], candidates: [], why: {} });
    expect(view.decision.summary).toBe("no action: nothing degraded and no query regressed");
    expect(view.pg_stat_statements).toEqual({ available: true });
    expect(view.notices).toEqual([]);
  });

  it("says what to do when the target has no pg_stat_statements", async () => {
    const target = await newTarget("nopgss");
    await store(target, samplesOf(target, () => 500, "missing").slice(0, 3));
    const view = await analysis(target);
    expect(view.pg_stat_statements).toMatchObject({ available: false, reason: "not_preloaded", instruction: PG_STAT_STATEMENTS_INSTRUCTION });
    expect(view.notices).toHaveLength(1);
    expect(view.notices[0]).toContain(PG_STAT_STATEMENTS_INSTRUCTION);
    expect(view.history.query_windows).toBe(0);
  });

  it("a known target without metrics answers an empty analysis, not an error", async () => {
    const target = await newTarget("empty");
    const view = await analysis(target);
    expect(view.history).toMatchObject({ snapshots: 0, from: null, to: null });
    expect(view.decision.should_act).toEqual([]);
    expect(view.notices[0]).toContain("no metrics collected");
  });

  it("unknown target is 404; bad query parameters are 400 naming the field; no token is 401", async () => {
    const unknown = await get("/api/analysis?target=no-such-target");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'unknown target "no-such-target"' });

    const empty = await get("/api/analysis?target=");
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { details: Array<{ path: string }> }).details[0]!.path).toBe("target");

    const long = await get(`/api/analysis?target=${"x".repeat(64)}`);
    expect(long.status).toBe(400);

    const typo = await get("/api/analysis?targte=default");
    expect(typo.status).toBe(400);
    expect(((await typo.json()) as { error: string }).error).toContain("targte");

    expect((await get("/api/analysis", {})).status).toBe(401);
  });
});

describe("loadAnalysisHistory: bounded reads", () => {
  it("reads the newest snapshots, each window's heaviest statements and the newest window's statements' baselines, within the limits", async () => {
    const target = await newTarget("bounds");
    const newest = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
    // 12 one-minute windows of 20 statements; statement q<k> costs k ms, so q20 is the heaviest.
    // In the newest window only q1..q5 ran.
    await handle.db.execute(sql`
      insert into system_snapshots (target, sample_id, snapshot_time, tps)
      select ${target}, 's' || i, to_timestamp((${newest}::int8 - (11 - i) * 60000) / 1000.0), 100
        from generate_series(0, 11) i`);
    await handle.db.execute(sql`
      insert into workload_snapshots (target, sample_id, snapshot_time, queryid, query, calls, total_exec_time_ms, mean_exec_time_ms)
      select ${target}, 's' || i, to_timestamp((${newest}::int8 - (11 - i) * 60000) / 1000.0), 'q' || k, 'select ' || k, 10, 10 * k, k
        from generate_series(0, 11) i, generate_series(1, 20) k
       where i < 11 or k <= 5`);
    const limits = { ...DEFAULT_ANALYSIS_LIMITS, maxSnapshots: 10, workloadQueriesPerWindow: 3, regressionQueries: 2, maxWindowsPerQuery: 4 };
    const { input, meta, queryText } = await loadAnalysisHistory(handle.db, target, { nowMs: Date.now(), limits });
    expect(meta.snapshots).toBe(10);
    expect(input.snapshots.map((s) => s.snapshot_time)).toEqual(Array.from({ length: 10 }, (_, j) => new Date(newest - (9 - j) * MINUTE).toISOString()));
    const windowsOf = (q: string) => input.queries.filter((w) => w.queryid === q).length;
    // Heaviest three of each loaded window: q18..q20 in the 9 older ones, q3..q5 in the newest.
    expect(windowsOf("q20")).toBe(9);
    expect(windowsOf("q1")).toBe(0);
    expect(windowsOf("q3")).toBe(1);
    // The newest window's two heaviest (q5, q4): their newest 4 windows, even outside the top three.
    expect(windowsOf("q5")).toBe(4);
    expect(windowsOf("q4")).toBe(4);
    // 9 windows × q18..q20, the newest × q3..q5, and q4, q5 in 3 older windows each.
    expect(input.queries.length).toBe(27 + 3 + 6);
    expect(meta.query_windows).toBe(input.queries.length);
    expect(queryText.get("q5")).toBe("select 5");
    expect(queryText.has("q20")).toBe(false); // texts only from the newest window
  });

  it("the seasonal history from SQL bucket means gives the expectation the raw snapshots give", async () => {
    const target = await newTarget("seasonal");
    const newest = Date.now() - MINUTE;
    // Three days of one-minute snapshots with a daily cycle in tps.
    await handle.db.execute(sql`
      insert into system_snapshots (target, sample_id, snapshot_time, tps, latency_p99, buffer_hit_ratio)
      select ${target}, 's' || i, to_timestamp((${newest}::int8 - i * 60000) / 1000.0),
             1000 + 300 * sin(2 * pi() * (${newest}::int8 - i * 60000) / 86400000.0) + 20 * sin(i * 1.7),
             5 + 0.1 * cos(i * 0.9), 0.99
        from generate_series(0, 3 * 1440 - 1) i`);
    const { input, meta } = await loadAnalysisHistory(handle.db, target, { nowMs: Date.now() });
    // Six hours back from now: the snapshots 1..359 minutes old.
    expect(meta.snapshots).toBe(359);
    expect(meta.seasonal_points).toBeLessThan(DEFAULT_ANALYSIS_LIMITS.seasonalBuckets + 16);
    const raw = (
      await handle.db
        .select({ t: systemSnapshots.snapshotTime, tps: systemSnapshots.tps, latency_p99: systemSnapshots.latencyP99, buffer_hit_ratio: systemSnapshots.bufferHitRatio })
        .from(systemSnapshots)
        .where(eq(systemSnapshots.target, target))
        .orderBy(asc(systemSnapshots.snapshotTime))
    ).map(({ t, ...m }) => ({ snapshot_time: t.toISOString(), ...m }));
    for (const metric of ["tps", "latency_p99", "buffer_hit_ratio"] as const) {
      const fromRaw = seasonalExpectation(raw, metric, DEFAULT_DETECT_CONFIG.seasonal)!;
      const fromLoaded = seasonalExpectation(input.seasonal_history!, metric, DEFAULT_DETECT_CONFIG.seasonal)!;
      expect(fromLoaded.method, metric).toBe("holt_winters");
      expect(fromLoaded.expected, metric).toBeCloseTo(fromRaw.expected, 6);
      expect(fromLoaded.upper, metric).toBeCloseTo(fromRaw.upper, 6);
      expect(fromLoaded.value, metric).toBe(fromRaw.value);
    }
  });
});
