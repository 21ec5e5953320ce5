/** switchover: the canary becomes the primary (runner/canary/switchover). */
import { switchover as runSwitchover } from "../canary/switchover";
import type { CommandHandler } from "./context";
import { canaryRuntime, refusing } from "./canary-errors";

export const switchover: CommandHandler<"switchover"> = (payload, ctx) =>
  refusing(async () => {
    const rt = canaryRuntime(ctx);
    return runSwitchover(rt.service(), rt.traffic(), {
      oldPrimary: payload.old_primary,
      ...(payload.pause_timeout_ms === undefined ? {} : { pauseTimeoutMs: payload.pause_timeout_ms }),
    });
  });
