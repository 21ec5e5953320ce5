/**
 * pg2une's database from inside the Worker: a Neon serverless Pool per request (Workers must
 * not share sockets across requests), wrapped in drizzle, closed after the response.
 * Locally NEON_WS_PROXY points the driver at pg2une's WebSocket→TCP bridge.
 */
import { Pool, neonConfig } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import { schema } from "./schema";

export type Db = NeonDatabase<typeof schema>;

export interface DbHandle {
  db: Db;
  /** Ends the pool; pass it to ctx.waitUntil once the request's queries are done. */
  close(): Promise<void>;
}

export interface DbEnv {
  DATABASE_URL: string;
  NEON_WS_PROXY?: string | undefined;
}

function configureNeon(proxy: string | undefined): void {
  if (!proxy) return;
  neonConfig.wsProxy = (host, port) => `${proxy}/v1?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineConnect = false;
  neonConfig.pipelineTLS = false;
}

export function openDb(env: DbEnv): DbHandle {
  configureNeon(env.NEON_WS_PROXY);
  const pool = new Pool({ connectionString: env.DATABASE_URL });
  // An idle client that dies (e.g. the bridge closing) must not crash the isolate.
  pool.on("error", () => undefined);
  return { db: drizzle({ client: pool, schema }), close: () => pool.end() };
}
