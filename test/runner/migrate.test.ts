import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS_DIR, migrateDatabase } from "../../runner/db/migrate";
import { startTestCluster, type TestCluster } from "../support/postgres";

describe("migrateDatabase against a real cluster", () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster();
    await cluster.query("create database pg2une");
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  const migrationCount = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith(".sql")).length;

  it("applies every migration once, and a second run is a no-op", async () => {
    const first = await migrateDatabase(cluster.url("pg2une"));
    expect(first).toEqual({ applied: migrationCount, total: migrationCount });
    const second = await migrateDatabase(cluster.url("pg2une"));
    expect(second).toEqual({ applied: 0, total: migrationCount });
    const tables = await cluster.query<{ t: string }>(
      "select table_name as t from information_schema.tables where table_schema = 'public' order by 1",
      [],
      "pg2une",
    );
    expect(tables.map((r) => r.t)).toEqual(expect.arrayContaining(["targets", "system_snapshots", "workload_snapshots", "optimization_runs", "run_events", "optimizer_observations"]));
  });

  it("two migrators at once do not race (advisory lock)", async () => {
    await cluster.query("create database pg2une_race");
    const [a, b] = await Promise.all([migrateDatabase(cluster.url("pg2une_race")), migrateDatabase(cluster.url("pg2une_race"))]);
    expect(a.applied + b.applied).toBe(migrationCount);
    expect(a.total).toBe(migrationCount);
    expect(b.total).toBe(migrationCount);
  });

  it("the CLI `pg2une db-migrate` twice in a row succeeds (what `npm run db:migrate` runs)", async () => {
    await cluster.query("create database pg2une_cli");
    const { execFileSync } = await import("node:child_process");
    const run = () =>
      execFileSync(process.execPath, ["runner/bin/pg2une.js", "db-migrate"], {
        encoding: "utf8",
        env: { ...process.env, DATABASE_URL: cluster.url("pg2une_cli") },
      });
    expect(run()).toBe(`migrations: ${migrationCount} applied now, ${migrationCount} in total\n`);
    expect(run()).toBe(`migrations: 0 applied now, ${migrationCount} in total\n`);
  });

  it("a bad DATABASE_URL is a one-line error with the password hidden and exit 1", async () => {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(process.execPath, ["runner/bin/pg2une.js", "db-migrate", "--database-url", `postgres://postgres:secret@127.0.0.1:${cluster.port}/nope`], {
      encoding: "utf8",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/migration failed against postgres:\/\/postgres:\*\*\*@.*database "nope" does not exist/);
    expect(r.stderr).not.toContain("secret");
  });
});
