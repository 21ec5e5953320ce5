/**
 * A real PgBouncer for tests: config in a temp dir, a free port, admin console for the
 * `postgres` user, stopped by its PID in `destroy()` (and killed on process exit as a last resort).
 *
 * @example
 *   const cluster = await startTestCluster();
 *   const bouncer = await startTestPgbouncer({ databases: { rw: { host: cluster.host, port: cluster.port, dbname: "postgres" } } });
 *   await runSql(bouncer.url("rw"), "select 1");
 *   await bouncer.destroy();
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../runner/net/ports";
import { pgbouncerConfig, type PgbouncerConfigInput } from "../../runner/pgbouncer/config";
import { startPgbouncer, type RunningPgbouncer } from "../../runner/pgbouncer/process";

export interface TestPgbouncer extends RunningPgbouncer {
  /** The validated config it runs with (change a copy and pass it to reconfigure). */
  config: ReturnType<typeof pgbouncerConfig>;
  /** Everything PgBouncer logged, for assertion messages. */
  output: string[];
  destroy(): Promise<void>;
}

export type TestPgbouncerOptions = Omit<PgbouncerConfigInput, "dir" | "listen"> & { host?: string; port?: number };

const live = new Set<TestPgbouncer>();
process.once("exit", () => {
  for (const b of live) {
    try {
      process.kill(b.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

export async function startTestPgbouncer(opts: TestPgbouncerOptions): Promise<TestPgbouncer> {
  const root = mkdtempSync(join(tmpdir(), "pg2une-pgbouncer-"));
  chmodSync(root, 0o755);
  const { host = "127.0.0.1", port, ...rest } = opts;
  const config = pgbouncerConfig({ ...rest, dir: join(root, "pgbouncer"), listen: { host, port: port ?? (await freePort(host)) } });
  const output: string[] = [];
  const running = await startPgbouncer({ config, onLine: (line) => output.push(line) });
  const bouncer: TestPgbouncer = {
    pid: running.pid,
    host: running.host,
    port: running.port,
    iniPath: running.iniPath,
    adminUrl: running.adminUrl,
    url: running.url,
    reconfigure: running.reconfigure,
    stop: running.stop,
    get running() {
      return running.running;
    },
    config,
    output,
    async destroy() {
      await running.stop();
      live.delete(bouncer);
      rmSync(root, { recursive: true, force: true });
    },
  };
  live.add(bouncer);
  return bouncer;
}
