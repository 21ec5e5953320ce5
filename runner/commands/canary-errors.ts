/**
 * The canary commands' refusals: each failure a caller can act on becomes a CommandRefusal with
 * its reason (journaled: repeating the same command id gives the same answer); anything else is
 * left to the route (target down → 503, bug → 500).
 */
import { CanaryPercentError, RoutingError } from "../../src/core/canary";
import { CanaryBackendError } from "../canary/backend";
import { InvalidCanaryConfigError } from "../canary/configure";
import { CanaryUnavailableError, type CanaryRuntime } from "../canary/runtime";
import { NoCanaryError } from "../canary/service";
import { SwitchoverAbortedError } from "../canary/switchover";
import { MxcError } from "../mxc/client";
import { CommandRefusal, type CommandContext } from "./context";

export function canaryRuntime(ctx: CommandContext): CanaryRuntime {
  if (!ctx.canary) throw new CommandRefusal(409, "no_canary", "this runner was started without canary support");
  return ctx.canary;
}

/** Runs a canary command body, translating the errors a caller can act on. */
export async function refusing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toRefusal(err);
  }
}

function toRefusal(err: unknown): unknown {
  if (err instanceof CommandRefusal) return err;
  if (err instanceof CanaryUnavailableError) return new CommandRefusal(409, err.reason, err.message);
  if (err instanceof NoCanaryError) return new CommandRefusal(409, "no_canary", err.message);
  if (err instanceof InvalidCanaryConfigError) return new CommandRefusal(400, "invalid_config", err.message, err.errors);
  if (err instanceof CanaryPercentError) return new CommandRefusal(400, "invalid_payload", err.message);
  if (err instanceof RoutingError) return new CommandRefusal(409, "routing_unavailable", err.message);
  if (err instanceof SwitchoverAbortedError) {
    return new CommandRefusal(422, "switchover_aborted", err.message, { step: err.step, pauseMs: err.pauseMs, undone: err.undone });
  }
  if (err instanceof MxcError) return new CommandRefusal(422, "mxc_failed", err.message, { status: err.status ?? null, workloadId: err.workloadId ?? null });
  if (err instanceof CanaryBackendError) return new CommandRefusal(422, "canary_failed", err.message);
  return err;
}
