/** launch_canary: a streaming hot-standby canary (runner/canary), idempotent. */
import type { CommandHandler } from "./context";
import { canaryRuntime, refusing } from "./canary-errors";

export const launchCanary: CommandHandler<"launch_canary"> = (_payload, ctx) => refusing(() => canaryRuntime(ctx).service().launch());
