/**
 * Connections from the runner to the PostgreSQL it acts on. Every command gets its own
 * connection whose statement_timeout is what is left of the command's deadline, so a stuck
 * query is cancelled by the server rather than left running after the runner gave up.
 */
import pg from "pg";

export const TARGET_CONNECT_TIMEOUT_MS = 5_000;
export const APPLICATION_NAME = "pg2une-runner";
/** Never below this, so a nearly-expired command still gets a meaningful statement. */
const MIN_STATEMENT_TIMEOUT_MS = 100;

export class TargetUnavailableError extends Error {
  override name = "TargetUnavailableError";
}

export interface TargetConnector {
  /** Runs `fn` on a fresh connection and closes it afterwards. */
  withClient<T>(fn: (client: pg.Client) => Promise<T>, opts: { deadline: number; signal: AbortSignal }): Promise<T>;
}

/**
 * `url` may be a function so the connector follows the primary when it moves (a canary
 * switchover promotes another node): it is resolved afresh for every connection.
 */
export function targetConnector(url: string | undefined | (() => string | undefined)): TargetConnector {
  const resolve = typeof url === "function" ? url : () => url;
  return {
    async withClient(fn, { deadline, signal }) {
      const url = resolve();
      if (!url) throw new TargetUnavailableError("this runner has no target: set TARGET_POSTGRES_URL (or targetUrl in --config)");
      const client = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: TARGET_CONNECT_TIMEOUT_MS,
        statement_timeout: Math.max(MIN_STATEMENT_TIMEOUT_MS, Math.floor(deadline - Date.now())),
        application_name: APPLICATION_NAME,
      });
      client.on("error", () => undefined); // surfaced through the pending query instead
      try {
        await client.connect();
      } catch (err) {
        await client.end().catch(() => undefined);
        throw new TargetUnavailableError(`cannot connect to the target PostgreSQL: ${(err as Error).message}`);
      }
      const onAbort = () => void client.end().catch(() => undefined);
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        return await fn(client);
      } finally {
        signal.removeEventListener("abort", onAbort);
        await client.end().catch(() => undefined);
      }
    },
  };
}

/** SQLSTATE classes that mean "the server is not there right now" rather than "bad request". */
export function isConnectionProblem(err: unknown): boolean {
  if (err instanceof TargetUnavailableError) return true;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  if (code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03") return true;
  if (["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH"].includes(code)) return true;
  return typeof e.message === "string" && /Connection terminated|connection timeout/i.test(e.message);
}

/** 57014: canceled by statement_timeout (our deadline). */
export function isStatementTimeout(err: unknown): boolean {
  return (err as { code?: unknown }).code === "57014";
}

/** The target URL with its host and port replaced (credentials, database and options kept). */
export function withHostPort(url: string, host: string, port: number): string {
  const u = new URL(url);
  u.hostname = host.includes(":") ? `[${host}]` : host;
  u.port = String(port);
  return u.toString();
}
