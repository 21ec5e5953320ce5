/**
 * A primary for canary tests: on a port that is free on both 127.0.0.1 and 127.0.0.2 (the
 * canary listens on the primary's port at another loopback address), plus a runner state dir
 * the `postgres` OS user can reach. Every canary postmaster left under the state dir is
 * stopped on cleanup (and, as a last resort, when the test process exits).
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePortOnAll } from "../../runner/net/ports";
import { livePostmasterPid } from "../../runner/postgres/cluster";
import { stopPostmaster } from "../../runner/postgres/control";
import { startTestCluster, type TestCluster } from "./postgres";

export const PRIMARY_HOST = "127.0.0.1";
export const CANARY_HOST = "127.0.0.2";

export interface CanaryFixture {
  primary: TestCluster;
  stateDir: string;
  /** Data dirs of every postmaster the test may have left (canaries, a restarted old primary). */
  dataDirs(): string[];
  cleanup(): Promise<void>;
}

const stateDirs = new Set<string>();
const primaryDataDirs = new Set<string>();
process.once("exit", () => {
  for (const dir of stateDirs) for (const d of canaryDataDirs(dir)) killNow(d);
  for (const d of primaryDataDirs) killNow(d);
});

function canaryDataDirs(stateDir: string): string[] {
  const root = join(stateDir, "canaries");
  if (!existsSync(root)) return [];
  return readdirSync(root).map((d) => join(root, d, "data"));
}

function killNow(dataDir: string): void {
  const pid = livePostmasterPid(dataDir);
  if (pid !== undefined) {
    try {
      process.kill(pid, "SIGQUIT");
    } catch {
      // gone
    }
  }
}

export async function startCanaryFixture(settings: Record<string, string> = {}): Promise<CanaryFixture> {
  const port = await freePortOnAll([PRIMARY_HOST, CANARY_HOST]);
  const primary = await startTestCluster({ port, host: PRIMARY_HOST, settings });
  const stateDir = mkdtempSync(join(tmpdir(), "pg2une-canary-state-"));
  chmodSync(stateDir, 0o755);
  stateDirs.add(stateDir);
  primaryDataDirs.add(primary.dataDir);
  const fixture: CanaryFixture = {
    primary,
    stateDir,
    dataDirs: () => [primary.dataDir, ...canaryDataDirs(stateDir)],
    async cleanup() {
      for (const d of canaryDataDirs(stateDir)) await stopPostmaster(d, "immediate").catch(() => undefined);
      // The old primary may have been restarted by a switchover (as a standby) outside the handle.
      await stopPostmaster(primary.dataDir, "fast").catch(() => undefined);
      await primary.destroy().catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
      stateDirs.delete(stateDir);
      primaryDataDirs.delete(primary.dataDir);
    },
  };
  return fixture;
}

/**
 * A PgBouncer for canary routing: starts with `rw` → primary and `ro` → primary only, and a
 * TrafficControl that rewrites its ini and RELOADs (the same one the runner uses).
 */
export async function startRoutingPgbouncer(primary: { host: string; port: number }, serverDatabase = "postgres") {
  const { startTestPgbouncer } = await import("./pgbouncer");
  const { canaryRoutingDatabases, pgbouncerTraffic } = await import("../../runner/pgbouncer/routing");
  const { routingLayout } = await import("../../src/core/canary");
  const bouncer = await startTestPgbouncer({
    serverRoundRobin: true,
    databases: canaryRoutingDatabases(routingLayout({ serverDatabase, primary, canaryPct: 0 })),
  });
  const { databases: _d, ...base } = bouncer.config;
  const traffic = pgbouncerTraffic({ base, adminUrl: bouncer.adminUrl });
  return { bouncer, traffic };
}
