/** ensure_infrastructure: primary and PgBouncer microVMs through mxc, deployed when absent. */
import { ensureInfrastructure as ensure } from "../mxc/infrastructure";
import { CommandRefusal, type CommandHandler } from "./context";
import { canaryRuntime, refusing } from "./canary-errors";

export const ensureInfrastructure: CommandHandler<"ensure_infrastructure"> = (_payload, ctx) =>
  refusing(async () => {
    const infra = canaryRuntime(ctx).infrastructure();
    if (!infra) throw new CommandRefusal(409, "mxc_failed", "no mxc coordinator is configured on this runner: set MXC_COORDINATOR (and MXC_API_TOKEN)");
    return ensure(infra, { timeoutMs: Math.max(1_000, ctx.deadline - Date.now() - 1_000) });
  });
