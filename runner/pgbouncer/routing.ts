/**
 * Which PgBouncer entries point where. `rw` reaches the primary only; with a canary, `ro` is the
 * read-only entry whose host list gives the canary k of N slots (src/core/canary/routing). The
 * ini itself is always rendered by ./config from what this returns, and pgbouncerTraffic drives
 * a running PgBouncer through it for the canary commands (rewrite + RELOAD, PAUSE/RESUME, SHOW).
 *
 * Both routed entries use transaction pooling: PAUSE waits for transactions, not for clients to
 * disconnect (in session pooling a switchover would wait for every client to leave), and each
 * statement of the split entry can land on any of the N connections, so the split follows k/N.
 */
import type { z } from "zod";
import { PG2UNE_SQL_MARKER, READ_ONLY_ENTRY, READ_WRITE_ENTRY, type RoutingLayout } from "../../src/core/canary";
import { PauseTimeoutError, type PoolClients, type ServerConnection, type TrafficControl } from "../canary/traffic";
import { PauseTimedOutError, adminUrl, pauseWithin, reload, resumeIfPaused, show } from "./admin";
import { pgbouncerConfig, writePgbouncerFiles, type PgbouncerConfig, type PgbouncerConfigInput, type PgbouncerDatabaseSchema } from "./config";

/** The read-write entry clients use for the primary. */
export const RW_ENTRY = READ_WRITE_ENTRY;
/** The read-only entry, split between primary and canary. */
export const RO_ENTRY = READ_ONLY_ENTRY;

/**
 * Every server connection of the read-only entry is read-only on whichever node it lands, so a
 * write sent there fails the same way on the primary as on the canary (and never half-works).
 */
export const READ_ONLY_CONNECT_QUERY = `${PG2UNE_SQL_MARKER} SET default_transaction_read_only = on`;

export interface Endpoint {
  host: string;
  port: number;
}

export interface Routing {
  primary: Endpoint;
  /** The database on the PostgreSQL side that the entries open. */
  dbname: string;
}

type DatabaseInput = z.input<typeof PgbouncerDatabaseSchema>;

export function routingDatabases(routing: Routing): Record<string, DatabaseInput> {
  return {
    [RW_ENTRY]: { host: routing.primary.host, port: routing.primary.port, dbname: routing.dbname },
  };
}

/** The two routed entries of a canary layout: rw to the primary, ro over N slots. */
export function canaryRoutingDatabases(layout: RoutingLayout): Record<string, DatabaseInput> {
  const { readWrite: rw, readOnly: ro } = layout;
  return {
    [rw.name]: { host: rw.host, port: rw.port, dbname: rw.dbname, poolMode: "transaction" },
    [ro.name]: {
      host: ro.hosts,
      port: ro.port,
      dbname: ro.dbname,
      poolSize: ro.poolSize,
      minPoolSize: ro.minPoolSize,
      poolMode: "transaction",
      connectQuery: READ_ONLY_CONNECT_QUERY,
    },
  };
}

export interface PgbouncerTrafficOptions {
  /**
   * Everything of the ini except the routed entries: dir, listen, auth … plus any other
   * databases the PgBouncer serves (kept as they are).
   */
  base: Omit<PgbouncerConfigInput, "databases"> & { databases?: PgbouncerConfigInput["databases"] };
  /** Admin console URL; default: the listen address with the first admin user. */
  adminUrl?: string;
}

/**
 * The whole ini for a routing layout: the one definition of what a routed PgBouncer looks like.
 * The runner writes it at every routing change; whoever starts PgBouncer (the dev stack, an
 * installer) renders the first one with the same function and a layout with all reads on the
 * primary, so the runner's first RELOAD changes only what routing changes.
 */
export function routedPgbouncerConfig(base: PgbouncerTrafficOptions["base"], layout: RoutingLayout): PgbouncerConfig {
  return pgbouncerConfig({
    ...base,
    // Queries spread evenly over the pool's connections, so the split follows the slots.
    serverRoundRobin: true,
    databases: { ...(base.databases ?? {}), ...canaryRoutingDatabases(layout) },
  });
}

/** TrafficControl over a PgBouncer whose ini this runner owns. */
export function pgbouncerTraffic(opts: PgbouncerTrafficOptions): TrafficControl {
  const admin = opts.adminUrl ?? adminUrl(opts.base.listen.host, opts.base.listen.port, opts.base.adminUsers?.[0] ?? "postgres");
  const num = (v: unknown) => Number(v ?? 0);
  return {
    async apply(layout) {
      writePgbouncerFiles(routedPgbouncerConfig(opts.base, layout));
      await reload(admin);
    },
    async pause(databases, timeoutMs) {
      try {
        await pauseWithin(admin, databases, timeoutMs);
      } catch (err) {
        if (err instanceof PauseTimedOutError) throw new PauseTimeoutError(databases, timeoutMs);
        throw err;
      }
    },
    async resume(databases) {
      for (const db of databases) await resumeIfPaused(admin, db);
    },
    async servers(): Promise<ServerConnection[]> {
      return (await show(admin, "SERVERS")).map((r) => ({
        database: String(r.database),
        user: String(r.user),
        host: String(r.addr),
        port: num(r.port),
        state: String(r.state),
      }));
    },
    async pools(): Promise<PoolClients[]> {
      return (await show(admin, "POOLS")).map((r) => ({ database: String(r.database), user: String(r.user), clients: num(r.cl_active) + num(r.cl_waiting), loggingIn: num(r.sv_login) }));
    },
  };
}
