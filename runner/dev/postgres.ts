/**
 * The dev stack's two PostgreSQL clusters, both reused across runs:
 *   - the target being tuned, in <dir>/pg (database `postgres`, pg_stat_statements ready);
 *   - pg2une's own history database `pg2une`, in <dir>/pg2une-db, migrated on every start.
 * They are separate because a canary run's switchover turns the target's primary into a standby:
 * pg2une's history (Neon in production) must not go read-only with it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { migrateDatabase, type MigrateResult } from "../db/migrate";
import type { PostgresBinaries } from "../postgres/binaries";
import { initCluster, startPostgres, type RunningPostgres } from "../postgres/cluster";
import { runSql } from "../postgres/sql";

export const PG2UNE_DATABASE = "pg2une";
export const TARGET_DATABASE = "postgres";

export interface DevCluster {
  server: RunningPostgres;
  created: boolean;
}

export interface DevHistoryDb extends DevCluster {
  migrations: MigrateResult;
  databaseUrl: string;
}

export class DataDirVersionMismatch extends Error {
  override name = "DataDirVersionMismatch";
}

interface ClusterOptions {
  dataDir: string;
  logFile: string;
  port: number;
  host: string;
  bins: PostgresBinaries;
}

async function startCluster(opts: ClusterOptions, prepare: (server: RunningPostgres) => Promise<void>): Promise<DevCluster> {
  const versionFile = join(opts.dataDir, "PG_VERSION");
  const created = !existsSync(versionFile);
  if (!created) {
    const dataMajor = Number(readFileSync(versionFile, "utf8").trim());
    if (dataMajor !== opts.bins.major) {
      throw new DataDirVersionMismatch(
        `${opts.dataDir} was created by PostgreSQL ${dataMajor}, but the binaries found are PostgreSQL ${opts.bins.major} (${opts.bins.source}: ${opts.bins.bindir}). ` +
          `Set PG_BIN to a PostgreSQL ${dataMajor} bin directory, or delete ${opts.dataDir} to start afresh.`,
      );
    }
  }
  initCluster({ dataDir: opts.dataDir }, opts.bins);
  const server = await startPostgres({ dataDir: opts.dataDir, port: opts.port, host: opts.host, logFile: opts.logFile, detached: true }, opts.bins);
  try {
    await prepare(server);
    return { server, created };
  } catch (err) {
    await server.stop("fast");
    throw err;
  }
}

/** The target cluster: what pg2une watches and tunes. */
export function startDevTarget(opts: ClusterOptions): Promise<DevCluster> {
  return startCluster(opts, async (server) => {
    await runSql(server.url(TARGET_DATABASE), "create extension if not exists pg_stat_statements");
  });
}

/** pg2une's own database, created and migrated. */
export async function startDevHistoryDb(opts: ClusterOptions): Promise<DevHistoryDb> {
  let migrations: MigrateResult | undefined;
  const cluster = await startCluster(opts, async (server) => {
    const exists = await runSql(server.url(), "select 1 from pg_database where datname = $1", [PG2UNE_DATABASE]);
    if (exists.length === 0) await runSql(server.url(), `create database ${PG2UNE_DATABASE}`);
    migrations = await migrateDatabase(server.url(PG2UNE_DATABASE));
  });
  return { ...cluster, migrations: migrations!, databaseUrl: cluster.server.url(PG2UNE_DATABASE) };
}
