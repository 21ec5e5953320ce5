/**
 * PgBouncer's admin console (the virtual `pgbouncer` database): RELOAD after rewriting the ini,
 * SHOW to read pools/databases/stats, PAUSE/RESUME around a switchover. The console speaks only
 * the simple query protocol, which node-postgres uses for a query without parameters; command
 * words come from fixed lists and database names are checked, so nothing is interpolated raw.
 *
 * @example
 *   await reload(adminUrl);
 *   const pools = await show(adminUrl, "POOLS");
 */
import pg from "pg";

/** SHOW subjects we use; PgBouncer has more, add them here when needed. */
export const SHOW_SUBJECTS = ["POOLS", "DATABASES", "CLIENTS", "SERVERS", "STATS", "CONFIG", "VERSION", "LISTS", "USERS"] as const;
export type ShowSubject = (typeof SHOW_SUBJECTS)[number];

const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/;
const ADMIN_CONNECT_TIMEOUT_MS = 5_000;

export type AdminRow = Record<string, unknown>;

/** postgres://user@host:port/pgbouncer — the admin console of a PgBouncer. */
export function adminUrl(host: string, port: number, user = "postgres"): string {
  return `postgres://${user}@${host.includes(":") ? `[${host}]` : host}:${port}/pgbouncer`;
}

async function adminQuery(url: string, command: string): Promise<AdminRow[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: ADMIN_CONNECT_TIMEOUT_MS });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const result = await client.query(command);
    return result.rows as AdminRow[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

function checkDatabase(database: string | undefined): string {
  if (database === undefined) return "";
  if (!DATABASE_NAME.test(database)) throw new Error(`invalid PgBouncer database name: ${JSON.stringify(database)}`);
  return ` ${database}`;
}

/** Re-read pgbouncer.ini and the auth file. Existing client connections stay. */
export async function reload(url: string): Promise<void> {
  await adminQuery(url, "RELOAD");
}

export async function show(url: string, subject: ShowSubject): Promise<AdminRow[]> {
  if (!SHOW_SUBJECTS.includes(subject)) throw new Error(`unsupported SHOW ${String(subject)}`);
  return adminQuery(url, `SHOW ${subject}`);
}

/** Wait for running transactions to finish, then hold new queries (one database or all). */
export async function pause(url: string, database?: string): Promise<void> {
  await adminQuery(url, `PAUSE${checkDatabase(database)}`);
}

export async function resume(url: string, database?: string): Promise<void> {
  await adminQuery(url, `RESUME${checkDatabase(database)}`);
}
