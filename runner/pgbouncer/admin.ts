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

export class PauseTimedOutError extends Error {
  override name = "PauseTimedOutError";
}

/**
 * PAUSE these databases (in parallel, each on its own console connection) and wait until all
 * are paused. PAUSE waits for running transactions to end; if that takes longer than
 * `timeoutMs`, every one of them is RESUMEd (which also lifts a PAUSE still in progress) and
 * PauseTimedOutError is thrown, so nothing is left paused.
 */
export async function pauseWithin(url: string, databases: readonly string[], timeoutMs: number): Promise<void> {
  const names = databases.map((d) => checkDatabase(d).trim());
  const clients = names.map(() => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: ADMIN_CONNECT_TIMEOUT_MS });
    c.on("error", () => undefined);
    return c;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"expired">((resolve) => {
    timer = setTimeout(() => resolve("expired"), timeoutMs);
  });
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const paused = Promise.all(clients.map((c, i) => c.query(`PAUSE ${names[i]}`)));
    paused.catch(() => undefined);
    const outcome = await Promise.race([paused.then(() => "paused" as const), expired]);
    if (outcome === "expired") {
      for (const name of names) await resumeIfPaused(url, name);
      throw new PauseTimedOutError(`PAUSE ${names.join(", ")} did not complete within ${timeoutMs} ms; resumed`);
    }
  } finally {
    clearTimeout(timer);
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

/** RESUME, tolerating "not paused" (PgBouncer errors on resuming a database that is not paused). */
export async function resumeIfPaused(url: string, database: string): Promise<void> {
  try {
    await resume(url, database);
  } catch (err) {
    if (!/not paused|is not paused|not suspended/i.test((err as Error).message)) throw err;
  }
}
