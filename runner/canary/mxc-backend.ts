/**
 * The production canary: a replica microVM (`pg2une-postgres-replica-<arch>`) from the mxc
 * coordinator. The VM image takes its primary from the environment we pass, makes its own
 * base backup and starts as a hot standby on the primary's port; we wait until the coordinator
 * says it runs, read its address, and wait until PostgreSQL there streams.
 *
 * A VM's PostgreSQL cannot be restarted from the runner, so postmaster-context settings are
 * refused by configure_canary for this backend (reported per knob), not silently left pending.
 */
import type { MxcClient, WaitOptions } from "../mxc/client";
import { microvmWorkload } from "../mxc/infrastructure";
import { CanaryBackendError, type CanaryBackend, type LaunchRequest } from "./backend";
import { parsePostgresUrl, withHost } from "./sql";
import { STREAMING_TIMEOUT_MS, waitUntilStreaming } from "./standby";

export interface MxcBackendOptions {
  mxc: MxcClient;
  /** Nix system name in the microVM config names (x86_64, aarch64). */
  arch: string;
  wait?: WaitOptions;
  /** After the VM runs: how long its PostgreSQL may take to stream from the primary. */
  streamingTimeoutMs?: number;
}

export function mxcCanaryBackend(opts: MxcBackendOptions): CanaryBackend {
  const stop = async (id: string) => {
    const w = await opts.mxc.findWorkload(id);
    if (w && w.status !== "stopped" && w.status !== "failed" && w.status !== "stopping") await opts.mxc.stopWorkload(id);
  };
  return {
    kind: "mxc",
    canRestart: false,

    async launch(req: LaunchRequest) {
      const primary = parsePostgresUrl(req.primaryUrl);
      const workload = await opts.mxc.createWorkload(
        microvmWorkload("postgres-replica", opts.arch, {
          PG2UNE_PRIMARY_HOST: primary.host,
          PG2UNE_PRIMARY_PORT: String(primary.port),
          PG2UNE_PRIMARY_USER: primary.user,
          // PgBouncer's multi-host entries share one port: the replica listens on the primary's.
          PG2UNE_PORT: String(primary.port),
        }),
      );
      try {
        const running = await opts.mxc.waitUntilRunning(workload.id, opts.wait);
        const canary = { backend: "mxc" as const, host: running.ip, port: primary.port, workloadId: workload.id };
        await waitUntilStreaming(withHost(req.primaryUrl, canary.host, canary.port), opts.streamingTimeoutMs ?? STREAMING_TIMEOUT_MS);
        return canary;
      } catch (err) {
        await stop(workload.id).catch(() => undefined);
        throw err;
      }
    },

    async restart() {
      throw new CanaryBackendError("an mxc canary's PostgreSQL cannot be restarted from the runner");
    },

    async teardown(canary) {
      if (canary.backend !== "mxc") throw new CanaryBackendError(`not an mxc canary: ${canary.backend}`);
      await stop(canary.workloadId);
    },
  };
}
