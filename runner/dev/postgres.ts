/**
 * The dev stack's PostgreSQL: one cluster in <dir>/pg that is both the target being tuned
 * (database `postgres`) and home of pg2une's own history (database `pg2une`), migrated on
 * every start. The data dir is reused across runs.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { migrateDatabase, type MigrateResult } from "../db/migrate";
import type { PostgresBinaries } from "../postgres/binaries";
import { initCluster, startPostgres, type RunningPostgres } from "../postgres/cluster";
import { runSql } from "../postgres/sql";

export const PG2UNE_DATABASE = "pg2une";
export const TARGET_DATABASE = "postgres";

export interface DevPostgres {
  server: RunningPostgres;
  created: boolean;
  migrations: MigrateResult;
  targetUrl: string;
  databaseUrl: string;
}

export class DataDirVersionMismatch extends Error {
  override name = "DataDirVersionMismatch";
}

export async function startDevPostgres(opts: { dataDir: string; logFile: string; port: number; host: string; bins: PostgresBinaries }): Promise<DevPostgres> {
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
    await runSql(server.url(TARGET_DATABASE), "create extension if not exists pg_stat_statements");
    const exists = await runSql(server.url(), "select 1 from pg_database where datname = $1", [PG2UNE_DATABASE]);
    if (exists.length === 0) await runSql(server.url(), `create database ${PG2UNE_DATABASE}`);
    const migrations = await migrateDatabase(server.url(PG2UNE_DATABASE));
    return { server, created, migrations, targetUrl: server.url(TARGET_DATABASE), databaseUrl: server.url(PG2UNE_DATABASE) };
  } catch (err) {
    await server.stop("fast");
    throw err;
  }
}
