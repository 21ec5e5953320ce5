/**
 * The runner's command handlers, one per implemented command of src/protocol/commands.
 * The mapped type makes a spec without a handler a compile error.
 */
import type { ImplementedCommandType } from "../../src/protocol";
import { applyConfig } from "./apply-config";
import type { CommandHandler } from "./context";
import { readConfig } from "./read-config";
import { resetConfig } from "./reset-config";

export const COMMAND_HANDLERS: { [T in ImplementedCommandType]: CommandHandler<T> } = {
  read_config: readConfig,
  apply_config: applyConfig,
  reset_config: resetConfig,
};

export { CommandRefusal, type CommandContext, type CommandHandler } from "./context";
