/** route_traffic: weighted read-only split through PgBouncer, measured share, route back on a dead canary. */
import type { CommandHandler } from "./context";
import { canaryRuntime, refusing } from "./canary-errors";

export const routeTraffic: CommandHandler<"route_traffic"> = (payload, ctx) =>
  refusing(() => canaryRuntime(ctx).router().route(payload.canary_pct, { measureWindowMs: payload.measure_window_ms }));
