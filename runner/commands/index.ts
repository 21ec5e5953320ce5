/**
 * The runner's command handlers, one per implemented command of src/protocol/commands.
 * The mapped type makes a spec without a handler a compile error.
 */
import type { ImplementedCommandType } from "../../src/protocol";
import { applyConfig } from "./apply-config";
import { collect } from "./collect";
import type { CommandHandler } from "./context";
import { createIndex, dropIndex, hypoIndexes } from "./indexes";
import { readConfig } from "./read-config";
import { resetConfig } from "./reset-config";
import { configureCanary } from "./configure-canary";
import { ensureInfrastructure } from "./ensure-infrastructure";
import { infrastructureStatus } from "./infrastructure-status";
import { launchCanary } from "./launch-canary";
import { routeTraffic } from "./route-traffic";
import { switchover } from "./switchover";
import { teardownCanary } from "./teardown-canary";

export const COMMAND_HANDLERS: { [T in ImplementedCommandType]: CommandHandler<T> } = {
  collect,
  read_config: readConfig,
  apply_config: applyConfig,
  reset_config: resetConfig,
  launch_canary: launchCanary,
  configure_canary: configureCanary,
  route_traffic: routeTraffic,
  switchover,
  teardown_canary: teardownCanary,
  ensure_infrastructure: ensureInfrastructure,
  infrastructure_status: infrastructureStatus,
  hypo_indexes: hypoIndexes,
  create_index: createIndex,
  drop_index: dropIndex,
};

export { CommandRefusal, type CommandContext, type CommandHandler } from "./context";
