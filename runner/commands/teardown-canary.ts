/** teardown_canary: reads back to the primary (when split), then the canary is stopped and removed. */
import type { CommandHandler } from "./context";
import { canaryRuntime, refusing } from "./canary-errors";

export const teardownCanary: CommandHandler<"teardown_canary"> = (_payload, ctx) => refusing(() => canaryRuntime(ctx).service().teardown());
