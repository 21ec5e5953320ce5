import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pause, resume, show } from "../../runner/pgbouncer/admin";
import { pgbouncerConfig, renderPgbouncerIni } from "../../runner/pgbouncer/config";
import { runSql, startTestCluster, type TestCluster } from "../support/postgres";
import { startTestPgbouncer, type TestPgbouncer } from "../support/pgbouncer";
import { checkTool, requireOrSkip } from "../support/tools";

const hasPgbouncer = requireOrSkip(checkTool("pgbouncer", "Debian: apt-get install pgbouncer"), "PgBouncer");

describe.runIf(hasPgbouncer)("PgBouncer harness (real pgbouncer + real PostgreSQL)", () => {
  let cluster: TestCluster;
  let bouncer: TestPgbouncer;

  beforeAll(async () => {
    cluster = await startTestCluster();
    await cluster.query("create database other");
    bouncer = await startTestPgbouncer({ databases: { rw: { host: cluster.host, port: cluster.port, dbname: "postgres" } } });
  });

  afterAll(async () => {
    await bouncer?.destroy();
    await cluster?.destroy();
  });

  it("a query through PgBouncer reaches the primary, and the admin console counts it", async () => {
    const rows = await runSql<{ port: number; db: string }>(bouncer.url("rw"), "select inet_server_port() as port, current_database() as db");
    expect(rows).toEqual([{ port: cluster.port, db: "postgres" }]);
    const stats = await show(bouncer.adminUrl, "STATS");
    const rw = stats.find((r) => r.database === "rw");
    expect(Number(rw?.total_query_count ?? rw?.total_xact_count)).toBeGreaterThan(0);
  });

  it("reconfigure rewrites the ini and RELOAD makes a new entry reachable", async () => {
    await expect(runSql(bouncer.url("reporting"), "select 1")).rejects.toThrow(/no such database/);
    const next = pgbouncerConfig({
      ...bouncer.config,
      databases: { ...bouncer.config.databases, reporting: { host: cluster.host, port: cluster.port, dbname: "other" } },
    });
    await bouncer.reconfigure(next);
    const rows = await runSql<{ db: string }>(bouncer.url("reporting"), "select current_database() as db");
    expect(rows).toEqual([{ db: "other" }]);
    const names = (await show(bouncer.adminUrl, "DATABASES")).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(["rw", "reporting", "pgbouncer"]));
  });

  it("PAUSE holds new queries until RESUME", async () => {
    await pause(bouncer.adminUrl, "rw");
    let done = false;
    const query = runSql(bouncer.url("rw"), "select 1 as one").then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(done).toBe(false);
    await resume(bouncer.adminUrl, "rw");
    expect(await query).toEqual([{ one: 1 }]);
  });

  it("stop() ends the process by its PID", async () => {
    const extra = await startTestPgbouncer({ databases: { rw: { host: cluster.host, port: cluster.port, dbname: "postgres" } } });
    const pid = extra.pid;
    await extra.destroy();
    expect(extra.running).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe("PgBouncer config rendering", () => {
  const base = { dir: "/tmp/pgb", listen: { host: "127.0.0.1", port: 6432 }, databases: { rw: { host: "127.0.0.1", port: 5432, dbname: "app" } } };

  it("renders a host list for round-robin entries and the pool settings", () => {
    const ini = renderPgbouncerIni(
      pgbouncerConfig({
        ...base,
        databases: { ...base.databases, ro: { host: ["127.0.0.1", "127.0.0.1", "127.0.0.2"], port: 5432, dbname: "app", poolSize: 20 } },
        defaultPoolSize: 20,
        minPoolSize: 20,
        serverRoundRobin: true,
      }),
    );
    expect(ini).toContain("rw = host=127.0.0.1 port=5432 dbname=app\n");
    expect(ini).toContain("ro = host=127.0.0.1,127.0.0.1,127.0.0.2 port=5432 dbname=app pool_size=20\n");
    expect(ini).toContain("server_round_robin = 1\n");
    expect(ini).toContain("min_pool_size = 20\n");
    expect(ini).toContain("unix_socket_dir = \n");
  });

  it("refuses values that would change the ini's meaning, naming the field", () => {
    expect(() => pgbouncerConfig({ ...base, databases: { rw: { host: "127.0.0.1 port=1", port: 5432, dbname: "app" } } })).toThrow(/databases\.rw\.host/);
    expect(() => pgbouncerConfig({ ...base, databases: { "bad name": { host: "127.0.0.1", port: 5432, dbname: "app" } } })).toThrow(/databases/);
    expect(() => pgbouncerConfig({ ...base, listen: { host: "127.0.0.1", port: 70000 } })).toThrow(/listen\.port/);
    expect(() => pgbouncerConfig({ ...base, databases: {} })).toThrow(/at least one database/);
  });
});
