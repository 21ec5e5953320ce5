/**
 * hypo_indexes, create_index and drop_index through the signed-command protocol: a real runner
 * process, signed requests, a real PostgreSQL with HypoPG, query traffic while measuring.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseKeyRing } from "../../../src/protocol";
import { createRunnerClient, type RunnerClient } from "../../../src/runner-client";
import { findPostgresBinaries } from "../../../runner/postgres/binaries";
import { startTestCluster, type TestCluster } from "../../support/postgres";
import { startWorkload, type WorkloadQuery } from "../../support/query-workload";
import { startRunnerProcess, type RunnerProcess } from "../../support/runner-process";
import { sendSigned } from "../../support/signed-request";
import { checkExtension, requireOrSkip } from "../../support/tools";
import { TEST_RUNNER_KEYS } from "../../support/worker-constants";

const ready = requireOrSkip(checkExtension("hypopg", findPostgresBinaries().sharedir(), "apt-get install postgresql-15-hypopg"), "index commands via the runner");
const key = parseKeyRing(TEST_RUNNER_KEYS).get("test")!;
const HOT: WorkloadQuery = { name: "by-account", sql: "select * from payments where account_id = $1", params: (r) => [r.int(1, 2000)] };

describe.skipIf(!ready)("index commands through the runner", () => {
  let cluster: TestCluster;
  let runner: RunnerProcess;
  let client: RunnerClient;

  beforeAll(async () => {
    cluster = await startTestCluster();
    await cluster.query("create table payments (id serial primary key, account_id int not null, cents int not null)");
    await cluster.query("insert into payments (account_id, cents) select 1 + i % 2000, i % 977 from generate_series(1, 30000) i");
    await cluster.query("analyze payments");
    await cluster.query("select pg_stat_reset(), pg_stat_statements_reset()");
    const w = startWorkload(cluster.url(), [HOT]);
    await new Promise((r) => setTimeout(r, 1000));
    await w.stop();
    runner = await startRunnerProcess({ targetUrl: cluster.url(), keys: TEST_RUNNER_KEYS });
    client = createRunnerClient({ url: runner.url, key, retry: { maxAttempts: 1 } });
  });
  afterAll(async () => {
    await runner?.destroy();
    await cluster?.destroy();
  });

  it("hypo_indexes → create_index (measured, kept) → drop_index", async () => {
    const { result: advice } = await client.send("hypo_indexes", { thresholds: { minCalls: 5 } });
    expect(advice.recommendations.map((r) => r.name)).toEqual(["pg2une_payments_account_id"]);
    const rec = advice.recommendations[0]!;
    expect(rec.queries[0]!.costAfter).toBeLessThanOrEqual(rec.queries[0]!.costBefore * 0.5);

    const w = startWorkload(cluster.url(), [HOT], { seed: 5 });
    let created;
    try {
      created = await client.send("create_index", {
        indexes: [{ schema: rec.schema, table: rec.table, columns: rec.columns, queryIds: rec.queries.map((q) => q.queryId) }],
        thresholds: { measureWindowMs: 1200, minCallsPerWindow: 20 },
      });
    } finally {
      await w.stop();
    }
    expect(created.result.records[0]).toMatchObject({ indexName: "pg2une_payments_account_id", status: "kept", measured: { verdict: "improved" } });

    const { result: dropped } = await client.send("drop_index", { all: true });
    expect(dropped).toEqual({ dropped: [{ schema: "public", name: "pg2une_payments_account_id" }], notFound: [] });
    expect(await cluster.query("select 1 from pg_class where relname = 'pg2une_payments_account_id'")).toEqual([]);
  });

  it("a bad payload is a 400 naming the field; foreign index names are refused", async () => {
    const typo = await sendSigned(runner.url, key, { type: "hypo_indexes", payload: { thresholds: { minCostSavingPct: 10 } } });
    expect(typo).toMatchObject({ status: 400, json: { reason: "invalid_payload" } });
    expect(typo.json.error).toMatch(/payload\.thresholds/);
    const foreign = await sendSigned(runner.url, key, { type: "drop_index", payload: { indexes: [{ schema: "public", name: "payments_pkey" }] } });
    expect(foreign).toMatchObject({ status: 400, json: { reason: "invalid_payload" } });
    expect(await cluster.query("select 1 from pg_class where relname = 'payments_pkey'")).toHaveLength(1);
  });
});
