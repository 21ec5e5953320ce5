/**
 * What the canary commands need from the connection pooler, as an interface: apply a routing
 * layout (rewrite the config atomically, RELOAD), PAUSE with a timeout, RESUME, and read which
 * server connections the read-only pool holds. PgBouncer implements it (runner/pgbouncer/routing).
 */
import type { RoutingLayout } from "../../src/core/canary";

export interface ServerConnection {
  database: string;
  user: string;
  host: string;
  port: number;
  state: string;
}

export interface TrafficControl {
  /** Render the layout into the pooler's config (atomically) and RELOAD. */
  apply(layout: RoutingLayout): Promise<void>;
  /**
   * PAUSE the entries of `layout` (waits for running transactions). When it has not completed
   * within `timeoutMs`, RESUME them and throw PauseTimeoutError: nothing is left paused.
   */
  pause(databases: readonly string[], timeoutMs: number): Promise<void>;
  resume(databases: readonly string[]): Promise<void>;
  /** The pooler's server connections (PgBouncer: SHOW SERVERS). */
  servers(): Promise<ServerConnection[]>;
  /** Pools (one per database and user) with their client counts (PgBouncer: SHOW POOLS). */
  pools(): Promise<PoolClients[]>;
}

export interface PoolClients {
  database: string;
  user: string;
  /** Clients connected to the pool (active + waiting). */
  clients: number;
  /** Server connections still logging in (PgBouncer: sv_login). */
  loggingIn: number;
}

export class PauseTimeoutError extends Error {
  override name = "PauseTimeoutError";
  constructor(
    readonly databases: readonly string[],
    readonly timeoutMs: number,
  ) {
    super(`PAUSE of ${databases.join(", ")} did not complete within ${timeoutMs} ms (a transaction kept running); resumed, nothing changed`);
  }
}
