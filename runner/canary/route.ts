/**
 * route_traffic: send canary_pct % of read-only traffic to the canary and prove the split.
 *
 *   render the layout (src/core/canary/routing) → write + RELOAD → wait until the read-only
 *   pool holds exactly k canary and N − k primary connections (the pool refilled) → snapshot
 *   pg_stat_statements on both nodes → measurement window → snapshot again → share
 *   (src/core/canary/share).
 *
 * The canary is health-checked before routing and all through the window; when it stops
 * answering, every slot goes back to the primary at once and the result says so
 * (`routedBack`). A watchdog (./watchdog) does the same between commands.
 */
import { canarySlotCount, computeCanaryShare, plannedCanaryShare, poolMatchesLayout, safeToReload, routingLayout, STATEMENT_CALLS_QUERY, StatementCallsRowSchema, type CanaryShare, type RoutingLayout, type StatementCallsRow } from "../../src/core/canary";
import { sleep } from "../postgres/cluster";
import { NoCanaryError, type CanaryService } from "./service";
import { answers, parsePostgresUrl, query } from "./sql";
import type { TrafficControl } from "./traffic";

export const ROUTE_DEFAULTS = {
  /** Before a RELOAD, wait at most this long for logins in flight to finish (see safeToReload). */
  settleTimeoutMs: 10_000,
  /** PgBouncer opens pool connections one janitor round at a time: a full pool of 20 takes seconds. */
  refillTimeoutMs: 20_000,
  /** Window over which the share is measured. */
  measureWindowMs: 10_000,
  /** Canary health check period during the window; a failed check routes everything back. */
  healthIntervalMs: 500,
  healthTimeoutMs: 1_000,
} as const;

export interface RouteOptions {
  /** Client-facing PgBouncer entry names (default `rw` / `ro`). */
  entries?: { readWrite: string; readOnly: string } | undefined;
  refillTimeoutMs?: number;
  measureWindowMs?: number;
  healthIntervalMs?: number;
  healthTimeoutMs?: number;
}

export interface RouteResult {
  canaryPct: number;
  canarySlots: number;
  slotCount: number;
  /** k/N: what the layout is built to send to the canary. */
  plannedShare: number;
  /** Measured canary share of reads (0..1), null when unmeasured (no traffic, routed back). */
  measuredShare: number | null;
  measurement: (CanaryShare & { windowMs: number }) | null;
  /** The read-only pool held exactly the new layout's connections (ms it took), or null if it never did. */
  poolRefillMs: number | null;
  /** Set when the canary stopped answering and all traffic went back to the primary. */
  routedBack: { reason: string; fromPct: number } | null;
}

export type RoutePhase = "settled" | "reloaded" | "refilled" | "measuring" | "routed_back";

export interface RouteOverrides {
  measureWindowMs?: number | undefined;
  /** Told as each phase begins (logs, tests). */
  onPhase?: ((phase: RoutePhase, detail?: string) => void) | undefined;
}

export interface Router {
  route(canaryPct: number, overrides?: RouteOverrides): Promise<RouteResult>;
  /** Every read-only slot to the primary now; idempotent and serialized. */
  routeAllToPrimary(reason: string): Promise<void>;
  layout(canaryPct: number): RoutingLayout;
}

export function router(service: CanaryService, traffic: TrafficControl, opts: RouteOptions = {}): Router {
  const o = { ...ROUTE_DEFAULTS, ...opts };
  const serverDatabase = parsePostgresUrl(service.primaryUrl()).database;
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  const layout = (canaryPct: number): RoutingLayout => {
    const canary = service.canary();
    return routingLayout({
      serverDatabase,
      ...(o.entries ? { entries: o.entries } : {}),
      primary: service.primary(),
      canary: canary && { host: canary.host, port: canary.port },
      canaryPct,
    });
  };

  const applyLayout = async (l: RoutingLayout) => {
    await traffic.apply(l);
    await service.update({ routing: { canaryPct: l.canaryPct, canarySlots: l.canarySlots, at: new Date().toISOString() } });
  };

  const routeAllToPrimary = (reason: string) =>
    serialized(async () => {
      const fromPct = service.state().routing?.canaryPct ?? 0;
      await applyLayout(layout(0));
      if (fromPct > 0) await service.update({ routedBack: { at: new Date().toISOString(), reason, fromPct } });
    });

  const canaryDown = async (): Promise<string | undefined> => {
    const canary = service.canary();
    if (!canary) return "no canary is running";
    return (await answers(service.canaryUrl(), o.healthTimeoutMs)) ? undefined : `canary ${canary.host}:${canary.port} stopped answering`;
  };

  async function route(canaryPct: number, overrides: RouteOverrides = {}): Promise<RouteResult> {
    if (canarySlotCount(canaryPct) > 0 && !service.canary()) throw new NoCanaryError(`route_traffic ${canaryPct} %`);
    const measureWindowMs = overrides.measureWindowMs ?? o.measureWindowMs;
    const phase = (p: RoutePhase, detail?: string) => overrides.onPhase?.(p, detail);
    const l = layout(canaryPct);
    const base = { canaryPct, canarySlots: l.canarySlots, slotCount: l.slotCount, plannedShare: plannedCanaryShare(canaryPct, l.slotCount) };
    const backOut = async (reason: string): Promise<RouteResult> => {
      const fromPct = service.state().routing?.canaryPct ?? canaryPct;
      await routeAllToPrimary(reason);
      phase("routed_back", reason);
      return { ...base, measuredShare: null, measurement: null, poolRefillMs: null, routedBack: { reason, fromPct: Math.max(fromPct, canaryPct) } };
    };

    if (l.canarySlots > 0) {
      const down = await canaryDown();
      if (down) return backOut(`${down} before routing ${canaryPct} %`);
    }
    await settle(l);
    phase("settled");
    await serialized(() => applyLayout(l));
    phase("reloaded");

    const refillStart = Date.now();
    const refilled = await waitForPool(l, o.refillTimeoutMs, l.canarySlots > 0 ? canaryDown : undefined);
    if (typeof refilled === "string") return backOut(refilled);
    const poolRefillMs = refilled ? Date.now() - refillStart : null;
    phase("refilled", poolRefillMs === null ? "timed out" : `${poolRefillMs} ms`);

    const primaryUrl = service.primaryUrl();
    const canaryUrl = service.canary() ? service.canaryUrl() : undefined;
    const snapshot = async () => ({
      primary: await statementCalls(primaryUrl, serverDatabase),
      canary: canaryUrl ? await statementCalls(canaryUrl, serverDatabase) : [],
    });
    let before;
    try {
      before = await snapshot();
    } catch (err) {
      return backOut(`canary stopped answering during the measurement (${(err as Error).message})`);
    }
    const t0 = Date.now();
    phase("measuring");
    while (Date.now() - t0 < measureWindowMs) {
      await sleep(Math.min(o.healthIntervalMs, measureWindowMs - (Date.now() - t0)));
      if (l.canarySlots > 0) {
        const down = await canaryDown();
        if (down) return backOut(`${down} during the measurement at ${canaryPct} %`);
      }
    }
    let after;
    try {
      after = await snapshot();
    } catch (err) {
      return backOut(`canary stopped answering during the measurement (${(err as Error).message})`);
    }
    const windowMs = Date.now() - t0;
    const share = computeCanaryShare({ primaryBefore: before.primary, primaryAfter: after.primary, canaryBefore: before.canary, canaryAfter: after.canary });
    return { ...base, measuredShare: share.share, measurement: { ...share, windowMs }, poolRefillMs, routedBack: null };
  }

  /** Waits (bounded) until a RELOAD cannot catch a server login half-way (safeToReload). */
  async function settle(next: RoutingLayout): Promise<void> {
    let current: RoutingLayout | undefined;
    try {
      current = layout(service.state().routing?.canaryPct ?? 0);
    } catch {
      current = undefined; // the canary the current split names is gone: nothing to wait for
    }
    const entries = [next.readWrite.name, next.readOnly.name];
    const deadline = Date.now() + o.settleTimeoutMs;
    while (Date.now() < deadline) {
      if (safeToReload(current, await traffic.pools(), await traffic.servers(), entries)) return;
      await sleep(50);
    }
  }

  /**
   * Polls the pooler until every read-only pool that has clients holds exactly the layout's
   * connections per node (PgBouncer keeps one pool per user, and maintains min_pool_size only
   * while a pool has clients, so a pool without clients is left to fill when they come).
   * When the layout gives the canary slots, at least one client must be connected too: a pool
   * nobody uses "matches" any layout, and a window measured while clients (re)connect would
   * measure the pool filling up, not the split (the canary's slot may not exist yet).
   * @returns true when refilled, false on timeout, or the reason the canary is down
   */
  async function waitForPool(l: RoutingLayout, timeoutMs: number, health?: () => Promise<string | undefined>): Promise<boolean | string> {
    const deadline = Date.now() + timeoutMs;
    let lastHealth = 0;
    for (;;) {
      const pools = await traffic.pools();
      const inUse = l.canarySlots === 0 || pools.some((p) => p.database === l.readOnly.name && p.clients > 0);
      const refilled = inUse && poolMatchesLayout(l, pools, await traffic.servers());
      if (refilled) return true;
      if (Date.now() > deadline) return false;
      if (health && Date.now() - lastHealth > o.healthIntervalMs) {
        lastHealth = Date.now();
        const down = await health();
        if (down) return `${down} while the pool refilled`;
      }
      await sleep(100);
    }
  }

  return { route, routeAllToPrimary, layout };
}

export async function statementCalls(url: string, database: string): Promise<StatementCallsRow[]> {
  const rows = await query(url, STATEMENT_CALLS_QUERY, [database], { connectTimeoutMs: ROUTE_DEFAULTS.healthTimeoutMs * 2 });
  return rows.map((r) => StatementCallsRowSchema.parse(r));
}
