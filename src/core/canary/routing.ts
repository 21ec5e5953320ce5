/**
 * The routing layout pg2une puts into PgBouncer, as data: a read-write entry that only ever
 * names the primary (writes never reach a standby canary), and a read-only entry whose host
 * list has N slots, k of them the canary. The runner renders it into pgbouncer.ini.
 *
 * PgBouncer 1.18 gives a multi-host entry one port for all hosts, so primary and canary must
 * listen on the same port at different addresses (e.g. 127.0.0.1 and 127.0.0.2).
 *
 * @example
 *   routingLayout({ serverDatabase: "app", primary: { host: "127.0.0.1", port: 5432 },
 *                   canary: { host: "127.0.0.2", port: 5432 }, canaryPct: 50 }).readOnly.hosts;
 */
import { canarySlotCount, canarySlots, DEFAULT_SLOT_COUNT } from "./slots";

/** Client-facing PgBouncer entry names: `rw` reaches the primary only, `ro` is split. */
export const READ_WRITE_ENTRY = "rw";
export const READ_ONLY_ENTRY = "ro";

export interface NodeAddress {
  host: string;
  port: number;
}

export interface RoutingInput {
  /** The database on the servers both entries open. */
  serverDatabase: string;
  /** Client-facing entry names; default `rw` and `ro`. */
  entries?: { readWrite: string; readOnly: string };
  primary: NodeAddress;
  canary?: NodeAddress | undefined;
  canaryPct: number;
  slotCount?: number;
}

export interface RoutingLayout {
  readWrite: { name: string; dbname: string; host: string; port: number };
  readOnly: { name: string; dbname: string; hosts: string[]; port: number; poolSize: number; minPoolSize: number };
  canaryPct: number;
  /** k: canary slots in the read-only host list. */
  canarySlots: number;
  slotCount: number;
}

export class RoutingError extends Error {
  override name = "RoutingError";
}

export function routingLayout(input: RoutingInput): RoutingLayout {
  const slotCount = input.slotCount ?? DEFAULT_SLOT_COUNT;
  const k = canarySlotCount(input.canaryPct, slotCount);
  const { primary, canary } = input;
  if (k > 0) {
    if (!canary) throw new RoutingError(`canary_pct ${input.canaryPct} needs a canary, and none is running`);
    if (canary.port !== primary.port) {
      throw new RoutingError(
        `canary port ${canary.port} differs from the primary's ${primary.port}: PgBouncer's multi-host entries share one port, so the canary must listen on the same port at another address`,
      );
    }
    if (canary.host === primary.host) throw new RoutingError(`canary and primary have the same address ${primary.host}:${primary.port}`);
  }
  const dbname = input.serverDatabase;
  const entries = input.entries ?? { readWrite: READ_WRITE_ENTRY, readOnly: READ_ONLY_ENTRY };
  if (entries.readWrite === entries.readOnly) throw new RoutingError(`the read-write and read-only entries need different names (both "${entries.readWrite}")`);
  const hosts = canarySlots(input.canaryPct, slotCount).map((slot) => (slot === "canary" ? canary!.host : primary.host));
  return {
    readWrite: { name: entries.readWrite, dbname, host: primary.host, port: primary.port },
    readOnly: { name: entries.readOnly, dbname, hosts, port: primary.port, poolSize: slotCount, minPoolSize: slotCount },
    canaryPct: input.canaryPct,
    canarySlots: k,
    slotCount,
  };
}

export interface PoolServer {
  database: string;
  user: string;
  host: string;
}

export interface PoolWithClients {
  database: string;
  user: string;
  clients: number;
  /** Server connections of the pool still logging in. */
  loggingIn?: number;
}

/**
 * Is it safe to RELOAD a new layout? PgBouncer 1.18 closes a server connection that is still
 * logging in when its entry's connect string changes, counts that as a failed login, and then
 * refuses waiting clients ("server login has been failing") for server_login_retry (15 s).
 * So a RELOAD waits until no pool of the routed entries has a login in flight and the current
 * layout is complete (a full pool opens no new connections).
 */
export function safeToReload(current: RoutingLayout | undefined, pools: readonly PoolWithClients[], servers: readonly PoolServer[], entries: readonly string[]): boolean {
  const loginsInFlight = pools.some((p) => entries.includes(p.database) && (p.loggingIn ?? 0) > 0);
  return !loginsInFlight && (current === undefined || poolMatchesLayout(current, pools, servers));
}

/**
 * Has the read-only entry's pool been refilled to the layout? Every (database, user) pool that
 * has clients must hold exactly N server connections, k of them to the canary (PgBouncer keeps
 * one pool per user and maintains min_pool_size only while a pool has clients; a pool without
 * clients fills when they come).
 */
export function poolMatchesLayout(layout: RoutingLayout, pools: readonly PoolWithClients[], servers: readonly PoolServer[]): boolean {
  const want = new Map<string, number>();
  for (const h of layout.readOnly.hosts) want.set(h, (want.get(h) ?? 0) + 1);
  const users = pools.filter((p) => p.database === layout.readOnly.name && p.clients > 0).map((p) => p.user);
  return users.every((user) => {
    const mine = servers.filter((s) => s.database === layout.readOnly.name && s.user === user);
    const have = new Map<string, number>();
    for (const s of mine) have.set(s.host, (have.get(s.host) ?? 0) + 1);
    return mine.length === layout.slotCount && [...want].every(([h, n]) => have.get(h) === n);
  });
}
