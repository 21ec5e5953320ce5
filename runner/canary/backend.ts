/**
 * Where a canary runs. The commands (launch, configure, route, switchover, teardown) do not
 * care: a local backend makes a `pg_basebackup -R` hot standby on another loopback address of
 * this host (dev, tests, single-host installs); the mxc backend asks the coordinator for a
 * replica microVM. Both give a streaming hot standby reachable at host:port, where port is the
 * primary's (PgBouncer's multi-host entries share one port).
 */
import type { CanaryRecord } from "./state";

export interface LaunchRequest {
  /** The current primary, as a PostgreSQL URL with a superuser (replication + ALTER SYSTEM). */
  primaryUrl: string;
  /** Address for the canary; the backend picks one when absent. */
  host?: string | undefined;
}

export interface CanaryBackend {
  readonly kind: CanaryRecord["backend"];
  /** Whether restart() works (postmaster-context settings need it). */
  readonly canRestart: boolean;
  /** Brings up a hot standby of the primary and returns once it streams. */
  launch(req: LaunchRequest): Promise<CanaryRecord>;
  /** Restarts the canary's PostgreSQL (for settings whose context is postmaster). */
  restart(canary: CanaryRecord): Promise<void>;
  /** Stops the canary and frees what it used. Idempotent. */
  teardown(canary: CanaryRecord): Promise<void>;
}

export class CanaryBackendError extends Error {
  override name = "CanaryBackendError";
}
