/**
 * Between commands nobody is looking at the canary, and PgBouncer does not skip a dead host in
 * a multi-host entry (clients routed to it wait, then fail). The watchdog checks the canary while
 * traffic is split and, after a few failed checks in a row, sends every read-only slot back to
 * the primary and records why (reported by the next route_traffic / infrastructure_status).
 *
 * @example
 *   const dog = startCanaryWatchdog(service, router);
 *   ...
 *   dog.stop();
 */
import type { Router } from "./route";
import type { CanaryService } from "./service";
import { answers } from "./sql";

export const WATCHDOG_DEFAULTS = {
  intervalMs: 1_000,
  /** One check: connect + `select 1`. */
  checkTimeoutMs: 1_000,
  /** Consecutive failed checks before routing back (one lost packet is not a dead canary). */
  failuresBeforeRouteBack: 2,
} as const;

export interface WatchdogOptions {
  intervalMs?: number;
  checkTimeoutMs?: number;
  failuresBeforeRouteBack?: number;
  onRouteBack?: (reason: string) => void;
}

export interface Watchdog {
  stop(): void;
}

export function startCanaryWatchdog(service: CanaryService, route: Router, opts: WatchdogOptions = {}): Watchdog {
  const o = { ...WATCHDOG_DEFAULTS, ...opts };
  let failures = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const tick = async () => {
    const s = service.state();
    if ((s.routing?.canarySlots ?? 0) > 0 && s.canary) {
      const url = service.canaryUrl();
      if (await answers(url, o.checkTimeoutMs)) {
        failures = 0;
      } else if (++failures >= o.failuresBeforeRouteBack) {
        const reason = `canary ${s.canary.host}:${s.canary.port} stopped answering (${failures} checks ${o.intervalMs} ms apart failed)`;
        failures = 0;
        await route.routeAllToPrimary(reason);
        o.onRouteBack?.(reason);
      }
    } else {
      failures = 0;
    }
  };
  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      tick()
        .catch(() => undefined)
        .finally(loop);
    }, o.intervalMs);
    timer.unref();
  };
  loop();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
