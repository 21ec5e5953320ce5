/** Where the dev stack keeps things inside its state dir (default `.pg2une/`, git-ignored). */
import { join } from "node:path";

export interface DevLayout {
  root: string;
  /** The PostgreSQL data directory (target cluster + pg2une's own database). */
  pgData: string;
  pgLog: string;
  /** pg2une's own history database: a cluster of its own (see ./postgres). */
  historyData: string;
  historyLog: string;
  apiToken: string;
  runnerKeys: string;
  runnerState: string;
  /** Local canaries' data dirs (PG2UNE_CANARY_DIR): outside runnerState (0700), the postgres user must reach it. */
  canaries: string;
  pgbouncerDir: string;
  /** dotenv file wrangler reads the Worker's bindings from (mode 0600, holds secrets). */
  workerEnv: string;
  /** wrangler's local persistence (Durable Object storage). */
  wranglerState: string;
  wranglerLogs: string;
  /** Who is running the stack and which children it started (for crash recovery). */
  stateFile: string;
}

export function devLayout(root: string): DevLayout {
  return {
    root,
    pgData: join(root, "pg"),
    pgLog: join(root, "postgres.log"),
    historyData: join(root, "pg2une-db"),
    historyLog: join(root, "pg2une-db.log"),
    apiToken: join(root, "api-token"),
    runnerKeys: join(root, "runner-keys"),
    runnerState: join(root, "runner"),
    canaries: join(root, "canaries"),
    pgbouncerDir: join(root, "pgbouncer"),
    workerEnv: join(root, "worker.env"),
    wranglerState: join(root, "wrangler"),
    wranglerLogs: join(root, "wrangler-logs"),
    stateFile: join(root, "dev.json"),
  };
}
