/**
 * Checks before anything starts, each failing with one line that says what to do: the ports are
 * free, and — when we run as root and PostgreSQL runs as the `postgres` user — that user can
 * reach the data dir and the binaries (a repo under /root, mode 0700, is the usual trap).
 */
import { execFileSync } from "node:child_process";
import { dirname } from "node:path";
import { isPortFree } from "../net/ports";
import { postgresOsUser } from "../postgres/cluster";

export class PreflightError extends Error {
  override name = "PreflightError";
}

export interface PortClaim {
  port: number;
  /** e.g. "the API (--api-port / PG2UNE_DEV_API_PORT)" */
  what: string;
}

export async function checkPortsFree(host: string, claims: PortClaim[]): Promise<void> {
  for (const claim of claims) {
    if (!(await isPortFree(claim.port, host))) {
      throw new PreflightError(`port ${claim.port} on ${host} is already in use, needed for ${claim.what}; stop what is there or choose another port`);
    }
  }
}

/**
 * As root: can the `postgres` OS user reach `path` — search a directory / run a binary? access(2)
 * checks every parent directory on the way too, which is the point.
 */
export function checkPostgresUserCanReach(path: string, what: string, alternative: string): void {
  const user = postgresOsUser();
  if (!user) return;
  try {
    execFileSync("test", ["-x", path], { ...user, stdio: "ignore" });
  } catch {
    throw new PreflightError(
      `the postgres OS user cannot reach ${what} at ${path} (PostgreSQL refuses to run as root, so it runs as that user). ` +
        `Give it access (chmod o+x on the parent directories of ${dirname(path)}) or ${alternative}`,
    );
  }
}
