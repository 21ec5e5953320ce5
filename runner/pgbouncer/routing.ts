/**
 * Which PgBouncer entries point where. Today: `rw`, the primary only. Canary routing (a
 * read-only entry whose host list gives the canary k of N slots) extends this description; the
 * ini itself is always rendered by ./config from what this returns.
 */
import type { z } from "zod";
import type { PgbouncerDatabaseSchema } from "./config";

/** The read-write entry clients use for the primary. */
export const RW_ENTRY = "rw";

export interface Endpoint {
  host: string;
  port: number;
}

export interface Routing {
  primary: Endpoint;
  /** The database on the PostgreSQL side that the entries open. */
  dbname: string;
}

export function routingDatabases(routing: Routing): Record<string, z.input<typeof PgbouncerDatabaseSchema>> {
  return {
    [RW_ENTRY]: { host: routing.primary.host, port: routing.primary.port, dbname: routing.dbname },
  };
}
