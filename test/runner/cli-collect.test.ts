/**
 * `pg2une collect` as an operator runs it: a real process against a real, loaded cluster.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RawSampleSchema, SnapshotSchema } from "../../src/core/metrics";
import { freePort } from "../../runner/net/ports";
import { pgbenchInit, startPgbench, type PgbenchRun } from "../support/pgbench";
import { startTestCluster, type TestCluster } from "../support/postgres";
import { checkTool, requireOrSkip } from "../support/tools";

const BIN = fileURLToPath(new URL("../../runner/bin/pg2une.js", import.meta.url));

function pg2une(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const hasPgbench = requireOrSkip(checkTool("pgbench", "Debian: apt-get install postgresql-client-15"), "pg2une collect CLI");

describe.runIf(hasPgbench)("pg2une collect", () => {
  let cluster: TestCluster;
  let load: PgbenchRun | undefined;

  beforeAll(async () => {
    cluster = await startTestCluster();
    pgbenchInit(cluster.url(), 1);
  });
  afterAll(async () => {
    await load?.stop();
    await cluster?.destroy();
  });

  it("--json prints one raw sample", async () => {
    const { code, stdout, stderr } = await pg2une(["collect", cluster.url(), "--json", "--target", "cli-test"]);
    expect(code, stderr).toBe(0);
    const sample = RawSampleSchema.parse(JSON.parse(stdout));
    expect(sample.target).toBe("cli-test");
    expect(sample.settings.work_mem).toBe("4MB");
  });

  it("--interval 2 --count 2 --json on a loaded cluster prints 2 snapshots with a positive tps", async () => {
    load = startPgbench(cluster.url(), { clients: 2, threads: 1, seconds: 30, rate: 200 });
    const { code, stdout, stderr } = await pg2une(["collect", cluster.url(), "--interval", "2", "--count", "2", "--json"]);
    await load.stop();
    load = undefined;
    expect(code, stderr).toBe(0);
    const snapshots = SnapshotSchema.array().parse(JSON.parse(stdout));
    expect(snapshots).toHaveLength(2);
    for (const s of snapshots) {
      expect(s.tps).toBeGreaterThan(0);
      expect(s.window_seconds).toBeGreaterThan(1.5);
      expect(s.queries.length).toBeGreaterThan(0);
    }
    expect(snapshots[1]!.previous_sample_id).toBe(snapshots[0]!.sample_id);
  });

  it("prints human tables without --json", async () => {
    const one = await pg2une(["collect", cluster.url()]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain("pg_stat_statements");
    expect(one.stdout).toContain("connections active");
    const series = await pg2une(["collect", cluster.url(), "--interval", "1", "--count", "1"]);
    expect(series.code, series.stderr).toBe(0);
    expect(series.stdout.split("\n")[0]).toMatch(/^time\s+window s\s+tps\s+qps\s+p50 ms/);
    expect(series.stdout.trim().split("\n")).toHaveLength(2);
  });

  it("a bad URL or bad flag is a usage error (exit 2) naming the problem", async () => {
    const bad = await pg2une(["collect", "not a url"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("not a valid URL");
    const scheme = await pg2une(["collect", "mysql://localhost/db"]);
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain("unsupported URL scheme");
    const count = await pg2une(["collect", cluster.url(), "--count", "0"]);
    expect(count.code).toBe(2);
    expect(count.stderr).toContain("--count");
    const missing = await pg2une(["collect"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("postgres-url");
  });

  it("an unreachable server is a clear error with exit 1", async () => {
    const port = await freePort("127.0.0.1");
    const { code, stderr, stdout } = await pg2une(["collect", `postgres://postgres:secret@127.0.0.1:${port}/postgres`, "--json"]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain("cannot connect to postgres://postgres:***@127.0.0.1");
    expect(stderr).not.toContain("secret");
  });
});
