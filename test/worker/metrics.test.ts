/**
 * Storage and API of metrics inside workerd, against the real PostgreSQL started by the global
 * setup (through the Neon driver and the WebSocket bridge).
 */
import { env, exports } from "cloudflare:workers";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScheduledTick } from "../../src/scheduled";
import { MetricsItemSchema, type RawSample } from "../../src/core/metrics";
import { parseWorkerConfig } from "../../src/config";
import { openDb, type DbHandle } from "../../src/store/db";
import { pruneOlderThan, storeSample } from "../../src/store/samples";
import { rawSamples, systemSnapshots, targets, workloadSnapshots } from "../../src/store/schema";
import { sample, statement } from "../support/metrics-fixtures";
import { TEST_API_TOKEN } from "../support/worker-constants";

const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };
const MINUTE = 60_000;

let handle: DbHandle;
beforeAll(() => {
  handle = openDb(parseWorkerConfig(env));
});
afterAll(async () => {
  await handle.close();
});

function uniqueTarget(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A sample of `target` at `at` with `xacts` committed transactions and one statement entry. */
function at(target: string, atMs: number, xacts: number, id?: string): RawSample {
  return {
    ...sample({
      at: atMs,
      sampleId: id,
      database: { xact_commit: xacts },
      top: [statement("42", { calls: xacts * 2, total_exec_time_ms: xacts * 0.5, stddev_exec_time_ms: 0.1 })],
    }),
    target,
  };
}

async function rowsOf(target: string) {
  const db = handle.db;
  const raw = await db.select().from(rawSamples).where(eq(rawSamples.target, target));
  const system = await db.select().from(systemSnapshots).where(eq(systemSnapshots.target, target)).orderBy(systemSnapshots.snapshotTime);
  const workload = await db.select().from(workloadSnapshots).where(eq(workloadSnapshots.target, target));
  return { raw, system, workload };
}

describe("storeSample", () => {
  it("stores the raw sample, its snapshot and per-query rows; the second sample gets rates", async () => {
    const target = uniqueTarget("store");
    const t = Date.now() - 10 * MINUTE;
    const first = await storeSample(handle.db, target, at(target, t, 1_000), "agent");
    expect(first.status).toBe("stored");
    const second = await storeSample(handle.db, target, at(target, t + 10_000, 3_000), "agent");
    expect(second).toMatchObject({ status: "stored", rederivedSampleId: null });
    const { raw, system, workload } = await rowsOf(target);
    expect(raw).toHaveLength(2);
    expect(raw[0]!.source).toBe("agent");
    expect(system).toHaveLength(2);
    expect(system[0]!.tps).toBeNull(); // first sample: no rates, not zeros
    expect(system[1]!.tps).toBeCloseTo(200, 9);
    expect(system[1]!.qps).toBeCloseTo(400, 9);
    expect(system[1]!.windowSeconds).toBe(10);
    expect(workload).toHaveLength(1);
    expect(workload[0]).toMatchObject({ queryid: "42", calls: 4_000, resetDetected: false });
  });

  it("a duplicate sample id is reported as duplicate and adds no rows", async () => {
    const target = uniqueTarget("dup");
    const s = at(target, Date.now() - 5 * MINUTE, 10);
    expect((await storeSample(handle.db, target, s, "agent")).status).toBe("stored");
    expect(await storeSample(handle.db, target, s, "agent")).toEqual({ status: "duplicate", sampleId: s.sample_id });
    const { raw, system } = await rowsOf(target);
    expect(raw).toHaveLength(1);
    expect(system).toHaveLength(1);
  });

  it("an out-of-order sample is derived against its predecessor and its successor is re-derived", async () => {
    const target = uniqueTarget("ooo");
    const t = Date.now() - 30 * MINUTE;
    const s1 = at(target, t, 1_000, `${target}-s1`);
    const s2 = at(target, t + 10_000, 2_000, `${target}-s2`);
    const s3 = at(target, t + 20_000, 4_000, `${target}-s3`);
    await storeSample(handle.db, target, s1, "agent");
    await storeSample(handle.db, target, s3, "agent"); // s2 is late
    const late = await storeSample(handle.db, target, s2, "agent");
    expect(late).toMatchObject({ status: "stored", rederivedSampleId: s3.sample_id });
    const { system, workload } = await rowsOf(target);
    expect(system.map((r) => r.sampleId)).toEqual([s1.sample_id, s2.sample_id, s3.sample_id]);
    expect(system[1]!.tps).toBeCloseTo(100, 9); // s1 → s2
    expect(system[2]!.tps).toBeCloseTo(200, 9); // s2 → s3, no longer s1 → s3
    expect((system[2]!.details as { previous_sample_id: string }).previous_sample_id).toBe(s2.sample_id);
    expect(workload.filter((w) => w.sampleId === s3.sample_id)).toHaveLength(1);
    expect(workload.find((w) => w.sampleId === s3.sample_id)!.calls).toBe(4_000);
  });

  it("refuses a sample whose target differs from the one it is stored under", async () => {
    const s = at("someone-else", Date.now(), 1);
    await expect(storeSample(handle.db, "mine", s, "agent")).rejects.toThrow(/not "mine"/);
  });

  it("stores nothing when any write fails (one transaction)", async () => {
    const target = uniqueTarget("boom");
    // A real failure inside the transaction: the database rejects this target's per-query rows.
    await handle.db.execute(
      sql.raw(`create or replace function pg2une_test_reject() returns trigger language plpgsql as $$
        begin if new.target like 'boom-%' then raise exception 'rejected for the test'; end if; return new; end $$`),
    );
    await handle.db.execute(sql.raw(`create or replace trigger pg2une_test_reject before insert on workload_snapshots for each row execute function pg2une_test_reject()`));
    try {
      const t = Date.now() - 3 * MINUTE;
      await storeSample(handle.db, target, { ...sample({ at: t }), target }, "agent"); // no queries: passes
      const failure = await storeSample(handle.db, target, at(target, t + 10_000, 5_000), "agent").catch((err: Error) => err);
      expect(failure).toBeInstanceOf(Error);
      expect(String((failure as Error).cause)).toContain("rejected for the test");
      const { raw, system } = await rowsOf(target);
      expect(raw).toHaveLength(1);
      expect(system).toHaveLength(1);
    } finally {
      await handle.db.execute(sql.raw(`drop trigger if exists pg2une_test_reject on workload_snapshots`));
    }
  });
});

// Test files run concurrently against one database, and retention deletes across targets: the
// tests below only assert what no other file's prune can change (see foundation's cron tick).
describe("retention", () => {
  it("pruneOlderThan removes samples, snapshots and per-query rows older than the cutoff, keeps the rest", async () => {
    const target = uniqueTarget("prune");
    const now = Date.now();
    const old = [at(target, now - 20 * 86_400_000, 10), at(target, now - 20 * 86_400_000 + 10_000, 20)];
    const recent = [at(target, now - MINUTE, 30), at(target, now - MINUTE + 10_000, 40)];
    for (const s of [...old, ...recent]) await storeSample(handle.db, target, s, "agent");
    const report = await pruneOlderThan(handle.db, 14, new Date(now), { target });
    expect(report.cutoff).toBe(new Date(now - 14 * 86_400_000).toISOString());
    const { raw, system, workload } = await rowsOf(target);
    expect(raw.map((r) => r.sampleId).sort()).toEqual(recent.map((s) => s.sample_id).sort());
    expect(system.map((r) => r.sampleId).sort()).toEqual(recent.map((s) => s.sample_id).sort());
    expect(workload.map((w) => w.sampleId)).toEqual([recent[1]!.sample_id]); // the 10 s window; the first is "too_long"
  });

  it("the cron tick prunes everything older than RETENTION_DAYS (default 14)", async () => {
    const target = uniqueTarget("cron");
    // A tick far in the past, so its cutoff cannot touch rows other test files are using.
    const tick = Date.UTC(2020, 0, 15);
    const stale = at(target, tick - 15 * 86_400_000, 10);
    await storeSample(handle.db, target, stale, "runner");
    const report = await runScheduledTick(env, tick);
    expect(report.prune).toMatchObject({ cutoff: "2020-01-01T00:00:00.000Z" });
    expect((await rowsOf(target)).raw).toEqual([]);
  });

  it("rejects a non-positive retention", async () => {
    await expect(pruneOlderThan(handle.db, 0)).rejects.toThrow(RangeError);
  });
});

describe("GET /api/metrics and /api/metrics/history", () => {
  const target = uniqueTarget("api");
  const now = Date.now();

  beforeAll(async () => {
    await handle.db.insert(targets).values({ name: target, runnerUrl: "http://127.0.0.1:7071", runnerKeyId: "test" });
    // 5 samples a minute apart ending 1 minute ago, plus one from 3 hours ago.
    await storeSample(handle.db, target, at(target, now - 180 * MINUTE, 1), "agent");
    for (let i = 0; i < 5; i++) await storeSample(handle.db, target, at(target, now - (5 - i) * MINUTE, 1_000 * (i + 1)), "agent");
  });

  const get = (path: string, headers: Record<string, string> = auth) => exports.default.fetch(`http://pg2une.test${path}`, { headers });

  it("needs the API token", async () => {
    expect((await get("/api/metrics", {})).status).toBe(401);
    expect((await get("/api/metrics/history", {})).status).toBe(401);
  });

  it("GET /api/metrics returns the latest snapshot with its queries", async () => {
    const res = await get(`/api/metrics?target=${target}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { target: string; snapshot: unknown; queries: Array<{ queryid: string; calls: number }> };
    expect(body.target).toBe(target);
    const item = MetricsItemSchema.parse(body.snapshot);
    expect(new Date(item.snapshot_time).getTime()).toBe(now - MINUTE);
    expect(item.tps).toBeCloseTo(1_000 / 60, 9);
    expect(body.queries).toEqual([expect.objectContaining({ queryid: "42", calls: 2_000 })]);
  });

  it("GET /api/metrics/history?minutes=60 returns the last hour's items, oldest first, snake_case", async () => {
    const res = await get(`/api/metrics/history?minutes=60&target=${target}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: unknown[]; minutes: number };
    expect(body.minutes).toBe(60);
    const items = body.items.map((i) => MetricsItemSchema.parse(i));
    expect(items).toHaveLength(5);
    const times = items.map((i) => Date.parse(i.snapshot_time));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Object.keys(body.items[0] as object)).toEqual(
      expect.arrayContaining(["snapshot_time", "tps", "qps", "latency_p50", "latency_p95", "latency_p99", "buffer_hit_ratio", "reset_detected"]),
    );
    // The oldest item in the hour was derived against the sample from 3 hours ago (outside the hour).
    expect(items[0]!.window_seconds).toBeCloseTo(175 * 60, 6);
    expect(items[4]!.tps).toBeCloseTo(1_000 / 60, 9);
  });

  it("?minutes=1..43200 only: 0, 43201 and words are 400 naming minutes", async () => {
    for (const bad of ["0", "43201", "abc", "1.5", "-5"]) {
      const res = await get(`/api/metrics/history?minutes=${bad}&target=${target}`);
      expect(res.status, bad).toBe(400);
      const body = (await res.json()) as { error: string; details: Array<{ path: string }> };
      expect(body.error).toContain("minutes");
      expect(body.details[0]!.path).toBe("minutes");
    }
    expect((await get(`/api/metrics/history?minutes=43200&target=${target}`)).status).toBe(200);
    expect((await get(`/api/metrics/history?minutes=1&target=${target}`)).status).toBe(200);
  });

  it("an unknown target is 404 on both", async () => {
    expect((await get("/api/metrics?target=no-such-target")).status).toBe(404);
    expect((await get("/api/metrics/history?target=no-such-target")).status).toBe(404);
  });

  it("a known target without samples answers snapshot null", async () => {
    const empty = uniqueTarget("empty");
    await handle.db.insert(targets).values({ name: empty, runnerUrl: "http://127.0.0.1:7072", runnerKeyId: "test" });
    const res = await get(`/api/metrics?target=${empty}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ target: empty, snapshot: null });
    const history = await get(`/api/metrics/history?target=${empty}`);
    expect(await history.json()).toMatchObject({ items: [] });
  });
});

