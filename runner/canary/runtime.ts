/**
 * The canary machinery of one runner process, built once from its config: the rollout state,
 * the canary backend (local or mxc), PgBouncer routing when configured, the mxc client when a
 * coordinator is configured, and the watchdog that routes reads back when the canary dies.
 * Command handlers get it through their context.
 *
 * @example
 *   const canary = createCanaryRuntime(config);
 *   await canary.service().launch();
 *   canary.close();
 */
import type { RunnerConfig } from "../config";
import { createMxcClient, type MxcClient } from "../mxc/client";
import { infrastructureState, mxcArch } from "../mxc/infrastructure";
import type { CanaryBackend } from "./backend";
import { localCanaryBackend } from "./local-backend";
import { mxcCanaryBackend } from "./mxc-backend";
import { router as makeRouter, type Router } from "./route";
import { canaryService, type CanaryService } from "./service";
import { pgbouncerTraffic, type PgbouncerTrafficOptions } from "../pgbouncer/routing";
import type { TrafficControl } from "./traffic";
import { startCanaryWatchdog, type Watchdog, type WatchdogOptions } from "./watchdog";

export class CanaryUnavailableError extends Error {
  override name = "CanaryUnavailableError";
  constructor(
    readonly reason: "no_canary" | "routing_unavailable",
    message: string,
  ) {
    super(message);
  }
}

export interface CanaryRuntime {
  readonly backendKind: CanaryBackend["kind"];
  service(): CanaryService;
  /** Throws routing_unavailable when this runner has no PgBouncer configured. */
  router(): Router;
  traffic(): TrafficControl;
  readonly routingConfigured: boolean;
  /** The mxc coordinator, when one is configured. */
  readonly mxc: MxcClient | undefined;
  infrastructure(): { mxc: MxcClient; state: ReturnType<typeof infrastructureState>; arch: string } | undefined;
  close(): void;
}

export interface CanaryRuntimeOptions {
  /** Builds the PgBouncer side (runner/pgbouncer/routing); absent = routing not available. */
  traffic?: TrafficControl | undefined;
  watchdog?: WatchdogOptions | false;
}

export function createCanaryRuntime(config: RunnerConfig, opts: CanaryRuntimeOptions = {}): CanaryRuntime {
  const arch = config.mxcArch ?? mxcArch();
  const mxc = config.mxcCoordinator || config.canaryBackend === "mxc" ? createMxcClient({ ...(config.mxcCoordinator ? { baseUrl: config.mxcCoordinator } : {}), ...(config.mxcApiToken ? { token: config.mxcApiToken } : {}) }) : undefined;
  const backend: CanaryBackend = config.canaryBackend === "mxc" ? mxcCanaryBackend({ mxc: mxc!, arch }) : localCanaryBackend({ stateDir: config.stateDir, canaryDir: config.canaryDir });
  const traffic = opts.traffic ?? trafficFromConfig(config);

  let service: CanaryService | undefined;
  let router: Router | undefined;
  const getService = (): CanaryService => {
    if (!config.targetUrl) throw new CanaryUnavailableError("no_canary", "this runner has no target: set TARGET_POSTGRES_URL (or targetUrl in --config)");
    service ??= canaryService({
      stateDir: config.stateDir,
      targetUrl: config.targetUrl,
      backend,
      ...(config.canaryHost ? { canaryHost: config.canaryHost } : {}),
      routeAllToPrimary: async (reason) => {
        if (traffic) await getRouter().routeAllToPrimary(reason);
      },
    });
    return service;
  };
  const getRouter = (): Router => {
    if (!traffic) {
      throw new CanaryUnavailableError("routing_unavailable", "PgBouncer routing is not configured on this runner: set PG2UNE_PGBOUNCER_DIR and PG2UNE_PGBOUNCER_LISTEN");
    }
    router ??= makeRouter(getService(), traffic);
    return router;
  };

  let watchdog: Watchdog | undefined;
  if (traffic && config.targetUrl && opts.watchdog !== false) watchdog = startCanaryWatchdog(getService(), getRouter(), opts.watchdog || {});

  return {
    backendKind: backend.kind,
    service: getService,
    router: getRouter,
    traffic() {
      if (!traffic) throw new CanaryUnavailableError("routing_unavailable", "PgBouncer routing is not configured on this runner");
      return traffic;
    },
    routingConfigured: traffic !== undefined,
    mxc,
    infrastructure: () => (mxc ? { mxc, state: infrastructureState(config.stateDir), arch } : undefined),
    close() {
      watchdog?.stop();
    },
  };
}

/**
 * The part of pgbouncer.ini that is not routing, as the runner renders it from
 * PG2UNE_PGBOUNCER_DIR and PG2UNE_PGBOUNCER_LISTEN (undefined when routing is off). Whoever starts
 * the PgBouncer the runner routes (the dev stack) builds its first ini from this too.
 */
export function pgbouncerRoutingBase(config: Pick<RunnerConfig, "pgbouncerDir" | "pgbouncerListen">): PgbouncerTrafficOptions["base"] | undefined {
  if (!config.pgbouncerDir || !config.pgbouncerListen) return undefined;
  const i = config.pgbouncerListen.lastIndexOf(":");
  const listen = { host: config.pgbouncerListen.slice(0, i), port: Number(config.pgbouncerListen.slice(i + 1)) };
  return { dir: config.pgbouncerDir, listen };
}

/** PgBouncer routing when PG2UNE_PGBOUNCER_DIR and PG2UNE_PGBOUNCER_LISTEN are set. */
function trafficFromConfig(config: RunnerConfig): TrafficControl | undefined {
  const base = pgbouncerRoutingBase(config);
  return base ? pgbouncerTraffic({ base }) : undefined;
}
