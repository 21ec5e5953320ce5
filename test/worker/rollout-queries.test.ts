/**
 * The queries action end to end, everything real: a table without the index its hot query
 * needs, pgbench running that query, POST /api/optimize {"action": "queries"} → the Durable
 * Object asks the lab's runner for HypoPG advice, creates the index, the runner measures it and
 * keeps it; the run, its timeline and the managed index land in pg2une's database.
 * Also: a second start while busy is a 409 with the state, and one during the cooldown says
 * how long is left; an object aborted mid-step resumes the same step and finishes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiJson, crashRollout, labTarget, optimize, rolloutLab, runOf, timeline, waitForRunEnd, type StatusBody } from "./rollout-support";

const LOAD = `\\set c random(1, 5000)
SELECT sum(amount) FROM rq_orders WHERE customer_id = :c;
`;
/** Short windows so the index step takes seconds, not minutes. */
const INDEX_THRESHOLDS = { minCalls: 5, measureWindowMs: 2_000, minCallsPerWindow: 5 };
const TIMINGS = { resumeCheckMs: 2_000, cooldownMs: 300_000 };

let load: { id: string } | undefined;

beforeAll(async () => {
  await rolloutLab.stack();
  for (const sql of [
    "drop table if exists rq_orders",
    "create table rq_orders (id bigserial primary key, customer_id int not null, amount numeric not null)",
    "insert into rq_orders (customer_id, amount) select (random() * 5000)::int, random() * 100 from generate_series(1, 100000)",
    "analyze rq_orders",
    // The bulk load is not the workload: without this the table counts as write-heavy.
    "select pg_stat_reset_single_table_counters('rq_orders'::regclass)",
    "select pg_stat_statements_reset()",
  ])
    await rolloutLab.sql(sql);
  load = await rolloutLab.startLoad(LOAD, 2, 120);
  await new Promise((r) => setTimeout(r, 2_000));
}, 60_000);

afterAll(async () => {
  if (load) await rolloutLab.stopLoad(load.id);
  await rolloutLab.sql("drop table if exists rq_orders");
});

async function dropManagedIndexes(): Promise<void> {
  const rows = (await rolloutLab.sql("select indexname from pg_indexes where tablename = 'rq_orders' and indexname like 'pg2une_%'")).rows;
  for (const r of rows) await rolloutLab.sql(`drop index if exists "${String(r.indexname)}"`);
}

describe("queries action (HypoPG → CREATE INDEX CONCURRENTLY → measured → kept)", () => {
  it("creates the index the hot query needs, keeps it on measurement, refuses a second start (busy, then cooldown)", async () => {
    await dropManagedIndexes();
    const target = await labTarget("rq");
    const started = await optimize(target, { action: "queries", index_thresholds: INDEX_THRESHOLDS, timings: TIMINGS });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ run_id: expect.stringMatching(/^r-/), state: "optimizing" });

    const busy = await optimize(target, { action: "knobs" });
    expect(busy.status).toBe(409);
    expect(busy.body.error).toMatch(/is in progress/);
    expect(busy.body.details).toMatchObject({ reason: "busy", state: expect.any(String), run_id: started.body.run_id });

    const end = await waitForRunEnd(target, 90_000);
    expect(end).toMatchObject({ state: "promoted", busy: false });
    const run = await runOf(started.body.run_id);
    expect(run).toMatchObject({ outcome: "kept", state: "promoted" });
    expect(run.managed_indexes).toEqual([expect.objectContaining({ index_name: "pg2une_rq_orders_customer_id", status: "kept" })]);
    const lines = timeline(run);
    expect(lines.join("\n")).toMatch(/costing index candidates with HypoPG/);
    expect(lines.join("\n")).toMatch(/creating, measuring and keeping or dropping indexes/);
    expect(lines.join("\n")).toMatch(/pg2une_rq_orders_customer_id: kept/);
    expect(lines.at(-1)).toMatch(/^outcome promoted: kept/);
    // A kept change is the new normal: detection's baselines restart when the run ended.
    const status = await apiJson<{ last_optimization_time: string; last_promotion_time: string | null }>(`/api/status?target=${target}`);
    expect(status.body.last_promotion_time).toBe(status.body.last_optimization_time);

    const cooling = await optimize(target, { action: "queries" });
    expect(cooling.status).toBe(409);
    expect(cooling.body.error).toMatch(/cooling down after run/);
    expect(cooling.body.details).toMatchObject({ reason: "cooldown", cooldown_left_seconds: expect.any(Number) });
    expect(cooling.body.details!.cooldown_left_seconds as number).toBeGreaterThan(250);
  }, 120_000);

  it("an object aborted mid-step resumes the same step (same commandId) and finishes", async () => {
    await dropManagedIndexes();
    const target = await labTarget("rq-abort");
    const started = await optimize(target, { action: "queries", index_thresholds: INDEX_THRESHOLDS, timings: TIMINGS });
    expect(started.status).toBe(202);
    let aborted = false;
    const end = await waitForRunEnd(target, 90_000, async (s: StatusBody) => {
      if (!aborted && s.run?.step === "create-index") {
        aborted = true;
        await crashRollout(target);
      }
    });
    expect(aborted).toBe(true);
    expect(end.busy).toBe(false);
    const run = await runOf(started.body.run_id);
    expect(run.outcome).toBe("kept");
    // Exactly one create-index outcome: the resumed send joined (or replayed) the first one.
    expect(timeline(run).filter((l) => /pg2une_rq_orders_customer_id: kept/.test(l))).toHaveLength(1);
    expect(run.events.map((e) => e.seq)).toEqual(run.events.map((_, i) => i + 1));
  }, 120_000);
});
