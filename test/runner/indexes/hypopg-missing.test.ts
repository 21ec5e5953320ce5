/**
 * HypoPG missing, two honest ways:
 *  - a real PostgreSQL 15 whose install tree has no hypopg files at all (the server cannot load
 *    it, exactly as on a host without the package), driven through the real CLI;
 *  - a server that has HypoPG, where the role asking is not allowed to CREATE EXTENSION it.
 * Both must name what to do, exit non-zero, and leave the database untouched.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adviseIndexes } from "../../../runner/indexes/advisor";
import { IndexAdvisorError } from "../../../runner/indexes/errors";
import { runSql, startTestCluster, type TestCluster } from "../../support/postgres";
import { startClusterWithout, type ClusterWithout } from "../../support/postgres-without-extension";
import { findPostgresBinaries } from "../../../runner/postgres/binaries";
import { checkExtension, requireOrSkip } from "../../support/tools";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../..", import.meta.url));
const ready = requireOrSkip(checkExtension("hypopg", findPostgresBinaries().sharedir(), "apt-get install postgresql-15-hypopg"), "hypopg missing");

async function userState(url: string) {
  const [ext] = await runSql<{ n: string }>(url, "select count(*)::text as n from pg_extension where extname = 'hypopg'");
  const [idx] = await runSql<{ n: string }>(url, "select count(*)::text as n from pg_class where relkind = 'i' and relnamespace = 'public'::regnamespace");
  return { hypopgInstalled: ext!.n !== "0", publicIndexes: Number(idx!.n) };
}

async function seed(url: string) {
  await runSql(url, "create table t (id int primary key, v int)");
  await runSql(url, "insert into t select i, i % 1000 from generate_series(1, 20000) i");
  await runSql(url, "analyze t");
  for (let i = 0; i < 15; i++) await runSql(url, "select * from t where v = $1", [i]);
}

describe.skipIf(!ready)("HypoPG missing", () => {
  let bare: ClusterWithout;
  let full: TestCluster;

  beforeAll(async () => {
    [bare, full] = await Promise.all([startClusterWithout("hypopg"), startTestCluster()]);
    await seed(bare.url());
    await full.query("create database app");
    await runSql(full.url("app"), "create extension pg_stat_statements");
    await seed(full.url("app"));
    await full.query("create role app_user login");
    await full.query("grant all on schema public to app_user", [], "app");
  });

  afterAll(async () => {
    await Promise.all([bare?.destroy(), full?.destroy()]);
  });

  it("a server without the package: the CLI names postgresql-15-hypopg, exits non-zero, creates nothing", async () => {
    const before = await userState(bare.url());
    const result = await run(process.execPath, [`${root}/runner/bin/pg2une.js`, "advise-indexes", bare.url(), "--apply"], { cwd: root }).then(
      (r) => ({ code: 0, ...r }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/HypoPG is not installed on this PostgreSQL 15 server/);
    expect(result.stderr).toMatch(/Install the package postgresql-15-hypopg/);
    expect(result.stderr).toMatch(/CREATE EXTENSION hypopg/);
    expect(result.stderr).toMatch(/Nothing was created/);
    expect(await userState(bare.url())).toEqual(before);
    expect(before).toEqual({ hypopgInstalled: false, publicIndexes: 1 });
  });

  it("a role that may not create the extension: says who must run CREATE EXTENSION, creates nothing", async () => {
    const url = full.url("app").replace("postgres@", "app_user@");
    const before = await userState(full.url("app"));
    const err = await adviseIndexes(url).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IndexAdvisorError);
    expect((err as IndexAdvisorError).code).toBe("hypopg_not_permitted");
    expect((err as IndexAdvisorError).message).toMatch(/role app_user cannot install it .*permission denied.*a superuser .*CREATE EXTENSION hypopg; in app/);
    expect(await userState(full.url("app"))).toEqual(before);
    expect(before.hypopgInstalled).toBe(false);
  });

  it("rejects bad CLI input with a message naming the problem", async () => {
    const bad = (args: string[]) =>
      run(process.execPath, [`${root}/runner/bin/pg2une.js`, "advise-indexes", ...args], { cwd: root }).then(
        () => ({ code: 0, stderr: "" }),
        (e: { code: number; stderr: string }) => e,
      );
    const noUrl = await bad([]);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/give exactly one PostgreSQL URL/);
    const notUrl = await bad(["mysql://x"]);
    expect(notUrl.stderr).toMatch(/postgres:\/\/ or postgresql:\/\/ URL/);
    const pct = await bad([full.url("app"), "--min-cost-savings-pct", "150"]);
    expect(pct.code).toBe(2);
    expect(pct.stderr).toMatch(/--min-cost-savings-pct: .*100/);
    const both = await bad([full.url("app"), "--apply", "--list"]);
    expect(both.stderr).toMatch(/exclude each other/);
  });
});
