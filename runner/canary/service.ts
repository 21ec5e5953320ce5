/**
 * The canary lifecycle on this runner, as the commands see it: launch (idempotent), configure,
 * teardown, and where primary and canary are right now. State lives in the state dir
 * (./state), so a repeated command or a restarted runner finds the canary it launched.
 *
 * @example
 *   const canaries = canaryService({ stateDir, targetUrl, backend: localCanaryBackend({ stateDir }) });
 *   await canaries.launch();
 *   await canaries.configure({ settings: { work_mem: "64MB" } });
 *   await canaries.teardown();
 */
import { sleep } from "../postgres/cluster";
import type { CanaryBackend } from "./backend";
import { configureCanary, type ConfigureRequest, type ConfigureResult } from "./configure";
import { answers, parsePostgresUrl, withHost } from "./sql";
import { rolloutState, type CanaryRecord, type RolloutState } from "./state";

export interface CanaryServiceDeps {
  stateDir: string;
  /** The configured target (its database is the one PgBouncer serves). */
  targetUrl: string;
  backend: CanaryBackend;
  /** Address for a new canary (the backend picks one when absent). */
  canaryHost?: string;
  /**
   * Called before a canary is torn down while traffic may still be split, so that no client is
   * left routed to a server that is going away.
   */
  routeAllToPrimary?: (reason: string) => Promise<void>;
}

export interface CanaryView {
  backend: CanaryRecord["backend"];
  host: string;
  port: number;
  launchedAt: string | null;
  workloadId?: string;
}

export interface LaunchResult {
  canary: CanaryView;
  /** False when a live canary was already there (the command is idempotent). */
  launched: boolean;
  launchMs: number;
}

export class NoCanaryError extends Error {
  override name = "NoCanaryError";
  constructor(action: string) {
    super(`no canary is running on this runner; launch_canary before ${action}`);
  }
}

export function canaryService(deps: CanaryServiceDeps) {
  const state = rolloutState(deps.stateDir);
  const read = (): RolloutState => state.read() ?? {};
  const update = (patch: Partial<RolloutState>) => state.write({ ...read(), ...patch });
  /** Removes keys (writing `undefined` would not survive JSON anyway, but say so). */
  const clear = (...keys: Array<keyof RolloutState>) => {
    const next = { ...read() };
    for (const k of keys) delete next[k];
    return state.write(next);
  };

  const primaryUrl = (s: RolloutState = read()) => (s.primary ? withHost(deps.targetUrl, s.primary.host, s.primary.port) : deps.targetUrl);
  const nodeUrl = (c: { host: string; port: number }) => withHost(deps.targetUrl, c.host, c.port);
  const view = (s: RolloutState): CanaryView | undefined =>
    s.canary && {
      backend: s.canary.backend,
      host: s.canary.host,
      port: s.canary.port,
      launchedAt: s.canaryLaunchedAt ?? null,
      ...(s.canary.backend === "mxc" ? { workloadId: s.canary.workloadId } : {}),
    };

  const service = {
    state: read,
    update,
    clear,
    primaryUrl,
    /** The current primary's address (moves at switchover). */
    primary(): { host: string; port: number } {
      const s = read();
      if (s.primary) return s.primary;
      const p = parsePostgresUrl(deps.targetUrl);
      return { host: p.host, port: p.port };
    },
    canary(): CanaryRecord | undefined {
      return read().canary;
    },
    canaryUrl(): string {
      const c = read().canary;
      if (!c) throw new NoCanaryError("using it");
      return nodeUrl(c);
    },
    nodeUrl,

    async launch(): Promise<LaunchResult> {
      const t0 = Date.now();
      const s = read();
      if (s.canary) {
        if (await answers(nodeUrl(s.canary))) return { canary: view(s)!, launched: false, launchMs: Date.now() - t0 };
        // A canary we launched but that no longer answers: clear it away before a new one.
        await service.teardown("the previous canary stopped answering");
      }
      const canary = await deps.backend.launch({ primaryUrl: primaryUrl(), host: deps.canaryHost });
      await update({ canary, canaryLaunchedAt: new Date().toISOString() });
      return { canary: view(read())!, launched: true, launchMs: Date.now() - t0 };
    },

    async configure(req: ConfigureRequest): Promise<ConfigureResult> {
      const canary = read().canary;
      if (!canary) throw new NoCanaryError("configure_canary");
      return configureCanary({ canary, canaryUrl: nodeUrl(canary), primaryUrl: primaryUrl(), backend: deps.backend }, req);
    },

    /** Routes everything back to the primary first (when split), then stops the canary. */
    async teardown(reason = "teardown_canary"): Promise<{ tornDown: CanaryView | null; routedBack: boolean }> {
      const s = read();
      if (!s.canary) return { tornDown: null, routedBack: false };
      let routedBack = false;
      if ((s.routing?.canarySlots ?? 0) > 0 && deps.routeAllToPrimary) {
        await deps.routeAllToPrimary(reason);
        routedBack = true;
      }
      await deps.backend.teardown(s.canary);
      const tornDown = view(s)!;
      await clear("canary", "canaryLaunchedAt");
      return { tornDown, routedBack };
    },

    /** Waits until the canary answers (after a restart, say). */
    async waitForCanary(timeoutMs = 10_000): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (await answers(service.canaryUrl(), 1_000)) return true;
        await sleep(100);
      }
      return false;
    },
  };
  return service;
}

export type CanaryService = ReturnType<typeof canaryService>;
