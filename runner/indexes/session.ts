/**
 * A connection for the advisor's work. HypoPG's hypothetical indexes live in one backend, so the
 * what-if costing holds a single session from start to end; measuring and building use their own.
 */
import pg from "pg";

export const APPLICATION_NAME = "pg2une-indexes";

export type Session = pg.Client;

export async function openSession(url: string): Promise<Session> {
  const client = new pg.Client({ connectionString: url, application_name: APPLICATION_NAME });
  client.on("error", () => undefined); // a dropped connection surfaces on the next query
  await client.connect();
  return client;
}

/** Runs fn on a fresh session and closes it; the runner's TargetConnector fits this shape. */
export type SessionProvider = <T>(fn: (s: Session) => Promise<T>) => Promise<T>;

/** What the advisor acts on: a connection URL (CLI, tests) or the runner's connector. */
export type IndexTarget = string | SessionProvider;

export async function withSession<T>(target: IndexTarget, fn: (s: Session) => Promise<T>): Promise<T> {
  if (typeof target !== "string") return target(fn);
  const s = await openSession(target);
  try {
    return await fn(s);
  } finally {
    await s.end().catch(() => undefined);
  }
}

let savepointSeq = 0;

/** Runs fn inside a savepoint so one failing EXPLAIN does not abort the whole transaction. */
export async function inSavepoint<T>(s: Session, fn: () => Promise<T>): Promise<T> {
  const name = `pg2une_sp_${++savepointSeq}`;
  await s.query(`SAVEPOINT ${name}`);
  try {
    const out = await fn();
    await s.query(`RELEASE SAVEPOINT ${name}`);
    return out;
  } catch (err) {
    await s.query(`ROLLBACK TO SAVEPOINT ${name}`);
    throw err;
  }
}

export async function serverVersionNum(s: Session): Promise<number> {
  const { rows } = await s.query<{ v: string }>("select current_setting('server_version_num') as v");
  return Number(rows[0]!.v);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Whether a library is in shared_preload_libraries / session_preload_libraries; null when this
 * role may not read those settings (they are superuser-only before pg_read_all_settings).
 */
export async function isPreloaded(s: Session, library: string): Promise<boolean | null> {
  try {
    const { rows } = await s.query<{ libs: string }>(
      "select current_setting('shared_preload_libraries') || ',' || current_setting('session_preload_libraries') as libs",
    );
    return rows[0]!.libs.split(",").map((l) => l.trim().replace(/^"|"$/g, "")).includes(library);
  } catch {
    return null;
  }
}
