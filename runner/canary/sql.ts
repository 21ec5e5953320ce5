/**
 * Short-lived connections to the nodes of a rollout (primary, canary, old primary). Every
 * statement pg2une sends starts with the pg2une marker, so share measurements leave it out.
 */
import pg from "pg";
import { PG2UNE_SQL_MARKER } from "../../src/core/canary";

export const NODE_CONNECT_TIMEOUT_MS = 3_000;
export const NODE_STATEMENT_TIMEOUT_MS = 30_000;
const APPLICATION_NAME = "pg2une-canary";

export interface ConnectOptions {
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>, opts: ConnectOptions = {}): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? NODE_CONNECT_TIMEOUT_MS,
    statement_timeout: opts.statementTimeoutMs ?? NODE_STATEMENT_TIMEOUT_MS,
    application_name: APPLICATION_NAME,
  });
  client.on("error", () => undefined); // surfaced through the pending query
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One marked statement on a fresh connection. */
export async function query<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, sql: string, params: unknown[] = [], opts: ConnectOptions = {}): Promise<T[]> {
  return withClient(url, async (c) => (await c.query<T>(marked(sql), params)).rows, opts);
}

export function marked(sql: string): string {
  return sql.startsWith(PG2UNE_SQL_MARKER) ? sql : `${PG2UNE_SQL_MARKER} ${sql}`;
}

/** True when the server answers a trivial query within the connect timeout. */
export async function answers(url: string, timeoutMs = NODE_CONNECT_TIMEOUT_MS): Promise<boolean> {
  try {
    await query(url, "select 1", [], { connectTimeoutMs: timeoutMs, statementTimeoutMs: timeoutMs });
    return true;
  } catch {
    return false;
  }
}

export interface ParsedUrl {
  host: string;
  port: number;
  database: string;
  user: string;
}

export function parsePostgresUrl(url: string): ParsedUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`not a PostgreSQL URL: ${url}`);
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") throw new Error(`not a PostgreSQL URL (postgres://…): ${url}`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: Number(u.port || 5432),
    database: decodeURIComponent(u.pathname.replace(/^\//, "")) || "postgres",
    user: decodeURIComponent(u.username) || "postgres",
  };
}

/** The same URL (user, password, database, options) pointing at another host/port. */
export function withHost(url: string, host: string, port?: number): string {
  const u = new URL(url);
  u.hostname = host.includes(":") ? `[${host}]` : host;
  if (port !== undefined) u.port = String(port);
  return u.toString();
}

/** The same URL on another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}
