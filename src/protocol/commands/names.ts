/**
 * Every command the runner understands (DESIGN.md, "Runner and the signed-command protocol").
 * A name listed here but without a spec in ./index.ts is answered with 501 not_implemented.
 */
export const COMMAND_TYPES = [
  "collect",
  "read_config",
  "apply_config",
  "reset_config",
  "launch_canary",
  "configure_canary",
  "route_traffic",
  "switchover",
  "teardown_canary",
  "ensure_infrastructure",
  "infrastructure_status",
  "hypo_indexes",
  "create_index",
  "drop_index",
] as const;

export type CommandType = (typeof COMMAND_TYPES)[number];

export function isCommandType(value: string): value is CommandType {
  return (COMMAND_TYPES as readonly string[]).includes(value);
}
