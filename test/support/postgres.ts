/**
 * Real PostgreSQL clusters for tests: a temp data dir, a free port, pg_stat_statements preloaded.
 * Every cluster started here is stopped by its PID in `stop()`, and, as a last resort, when the
 * test process exits.
 */
import { mkdtempSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PostgresBinaries } from "../../runner/postgres/binaries";
import { initCluster, startPostgres, type RunningPostgres } from "../../runner/postgres/cluster";
import { freePort } from "../../runner/net/ports";
import { runSql } from "../../runner/postgres/sql";

export interface TestCluster extends RunningPostgres {
  /** Run SQL on a fresh connection (database defaults to postgres) and return the rows. */
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
  /** Stop the server and remove its data dir. */
  destroy(): Promise<void>;
}

export interface TestClusterOptions {
  settings?: Record<string, string>;
  host?: string;
  port?: number;
  /** Skip fsync for speed; tests that measure performance leave this on. Default true. */
  fast?: boolean;
  /** A particular PostgreSQL installation (default: findPostgresBinaries()). */
  bins?: PostgresBinaries;
}

const live = new Set<TestCluster>();
process.once("exit", () => {
  for (const c of live) {
    try {
      process.kill(c.pid, "SIGQUIT");
    } catch {
      // already gone
    }
  }
});

export async function startTestCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  const root = mkdtempSync(join(tmpdir(), "pg2une-test-"));
  chmodSync(root, 0o755);
  const dataDir = join(root, "data");
  const fast = opts.fast ?? true;
  initCluster(
    {
      dataDir,
      settings: { ...(fast ? { fsync: "off", synchronous_commit: "off", full_page_writes: "off" } : {}), ...opts.settings },
    },
    opts.bins,
  );
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? (await freePort(host));
  const server = await startPostgres({ dataDir, port, host, logFile: join(root, "server.log") }, opts.bins);
  await runSql(server.url(), "create extension if not exists pg_stat_statements");
  const cluster: TestCluster = {
    pid: server.pid,
    host: server.host,
    port: server.port,
    dataDir: server.dataDir,
    logFile: server.logFile,
    url: server.url,
    stop: (mode) => server.stop(mode),
    get running() {
      return server.running;
    },
    query: <T extends Record<string, unknown>>(sql: string, params: unknown[] = [], database = "postgres") =>
      runSql<T>(server.url(database), sql, params),
    async destroy() {
      await server.stop("fast");
      live.delete(cluster);
      rmSync(root, { recursive: true, force: true });
    },
  };
  live.add(cluster);
  return cluster;
}

export { runSql };
