/** configure_canary: validated ALTER SYSTEM on the canary, reload or restart, testability per knob. */
import type { CommandHandler } from "./context";
import { canaryRuntime, refusing } from "./canary-errors";

export const configureCanary: CommandHandler<"configure_canary"> = (payload, ctx) =>
  refusing(() => canaryRuntime(ctx).service().configure({ settings: payload.settings, allow: ctx.allowKnobs }));
