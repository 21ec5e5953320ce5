/**
 * The command registry, shared by the Worker (sender) and the runner (executor).
 * Adding a command: write its spec module next to this file (see ./define.ts) and add one entry
 * to COMMAND_SPECS; the runner then needs its handler (runner/commands/index.ts).
 */
import { z } from "zod";
import { describeIssues } from "../errors";
import { applyConfigCommand } from "./apply-config";
import { collectCommand } from "./collect";
import type { CommandSpec } from "./define";
import { createIndexCommand, dropIndexCommand, hypoIndexesCommand } from "./indexes";
import { COMMAND_TYPES, isCommandType, type CommandType } from "./names";
import { readConfigCommand } from "./read-config";
import { resetConfigCommand } from "./reset-config";
import { configureCanaryCommand } from "./configure-canary";
import { ensureInfrastructureCommand } from "./ensure-infrastructure";
import { infrastructureStatusCommand } from "./infrastructure-status";
import { launchCanaryCommand } from "./launch-canary";
import { routeTrafficCommand } from "./route-traffic";
import { switchoverCommand } from "./switchover";
import { teardownCanaryCommand } from "./teardown-canary";

export const COMMAND_SPECS = {
  collect: collectCommand,
  read_config: readConfigCommand,
  apply_config: applyConfigCommand,
  reset_config: resetConfigCommand,
  launch_canary: launchCanaryCommand,
  configure_canary: configureCanaryCommand,
  route_traffic: routeTrafficCommand,
  switchover: switchoverCommand,
  teardown_canary: teardownCanaryCommand,
  ensure_infrastructure: ensureInfrastructureCommand,
  infrastructure_status: infrastructureStatusCommand,
  hypo_indexes: hypoIndexesCommand,
  create_index: createIndexCommand,
  drop_index: dropIndexCommand,
} as const satisfies { [K in CommandType]?: CommandSpec<K> };

type Specs = typeof COMMAND_SPECS;
export type ImplementedCommandType = keyof Specs;
/** What a sender passes (defaults may be omitted). */
export type CommandPayloadInput<T extends ImplementedCommandType> = z.input<Specs[T]["payload"]>;
/** What a handler receives (defaults filled in). */
export type CommandPayload<T extends ImplementedCommandType> = z.output<Specs[T]["payload"]>;
export type CommandResult<T extends ImplementedCommandType> = z.output<Specs[T]["result"]>;

/** A validated command: the discriminated union of every implemented command. */
export type Command = { [T in ImplementedCommandType]: { type: T; payload: CommandPayload<T> } }[ImplementedCommandType];

export function commandSpec(type: string): CommandSpec | undefined {
  return Object.hasOwn(COMMAND_SPECS, type) ? (COMMAND_SPECS as Record<string, CommandSpec>)[type] : undefined;
}

/** The HTTP body of POST /v1/commands: `{"type": "read_config", "payload": {…}}`. */
export const CommandBodySchema = z
  .object({
    type: z.string().min(1),
    payload: z.unknown().default({}),
  })
  .strict();

/** The discriminated union by `type`, for senders that want one schema to validate against. */
export const CommandSchema = z.discriminatedUnion(
  "type",
  Object.values(COMMAND_SPECS).map((spec) => z.object({ type: z.literal(spec.type), payload: spec.payload }).strict()) as unknown as [
    z.ZodObject<{ type: z.ZodLiteral<ImplementedCommandType>; payload: z.ZodType }>,
  ],
);

export type ParsedCommand =
  | { ok: true; command: Command; spec: CommandSpec }
  | {
      ok: false;
      status: 400 | 501;
      reason: "invalid_payload" | "unknown_command" | "not_implemented";
      message: string;
      details?: Array<{ path: string; message: string }>;
    };

/** Validates a decoded JSON body against the registry; the 400 names the field. */
export function parseCommand(json: unknown): ParsedCommand {
  const body = CommandBodySchema.safeParse(json);
  if (!body.success) {
    const details = describeIssues(body.error.issues);
    return { ok: false, status: 400, reason: "invalid_payload", message: `invalid command body: ${details[0]?.path || "(root)"}: ${details[0]?.message}`, details };
  }
  const { type, payload } = body.data;
  if (!isCommandType(type)) {
    return { ok: false, status: 400, reason: "unknown_command", message: `unknown command type "${type}"; known: ${COMMAND_TYPES.join(", ")}` };
  }
  const spec = commandSpec(type);
  if (!spec) return { ok: false, status: 501, reason: "not_implemented", message: `command "${type}" is not implemented by this runner` };
  const parsed = spec.payload.safeParse(payload);
  if (!parsed.success) {
    const details = describeIssues(parsed.error.issues).map((d) => ({ ...d, path: d.path ? `payload.${d.path}` : "payload" }));
    return { ok: false, status: 400, reason: "invalid_payload", message: `invalid ${type} payload: ${details[0]?.path}: ${details[0]?.message}`, details };
  }
  return { ok: true, command: { type, payload: parsed.data } as Command, spec };
}

/** A successful command's response body. */
export const CommandSuccessSchema = z.object({
  ok: z.literal(true),
  commandId: z.string(),
  type: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  result: z.unknown(),
});

/** Every refusal or failure: `{"ok": false, "error": "<human message>", "reason": "<machine reason>"}`. */
export const CommandFailureSchema = z.object({
  ok: z.literal(false),
  error: z.string(),
  reason: z.string(),
  commandId: z.string().optional(),
  details: z.unknown().optional(),
});

export const CommandResponseSchema = z.discriminatedUnion("ok", [CommandSuccessSchema, CommandFailureSchema]);
export type CommandSuccess<T extends ImplementedCommandType = ImplementedCommandType> = Omit<z.output<typeof CommandSuccessSchema>, "result"> & {
  result: CommandResult<T>;
};
export type CommandFailure = z.output<typeof CommandFailureSchema>;

export { COMMAND_TYPES, isCommandType, type CommandType } from "./names";
export { DEFAULT_COMMAND_TIMEOUT_MS, defineCommand, type CommandSpec, type JournalRetention } from "./define";
export { CollectNodeSchema, DEFAULT_COLLECT_TARGET, type CollectNode } from "./collect";
export { KnobSettingSchema, type KnobSetting } from "./read-config";
export { KNOB_NAME_PATTERN, KnobNameSchema } from "./knob-name";
