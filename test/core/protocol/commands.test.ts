import { describe, expect, it } from "vitest";
import { COMMAND_SPECS, COMMAND_TYPES, CommandSchema, commandSpec, parseCommand } from "../../../src/protocol";

describe("command registry", () => {
  it("lists every command of the design; each spec is registered under its own type", () => {
    expect(COMMAND_TYPES).toHaveLength(14);
    for (const [type, spec] of Object.entries(COMMAND_SPECS)) expect(spec.type).toBe(type);
  });

  it("parses a valid command and fills defaults", () => {
    const p = parseCommand({ type: "apply_config", payload: { settings: { work_mem: "64MB" } } });
    expect(p).toMatchObject({ ok: true, command: { type: "apply_config", payload: { settings: { work_mem: "64MB" }, restartKnobs: "skip" } } });
    expect(parseCommand({ type: "read_config" })).toMatchObject({ ok: true, command: { type: "read_config", payload: {} } });
  });

  it("unknown type → 400 unknown_command; known but not built → 501 not_implemented", () => {
    expect(parseCommand({ type: "drop_database", payload: {} })).toMatchObject({ ok: false, status: 400, reason: "unknown_command" });
    // A command named by the protocol but not built yet (whichever is still missing).
    const unbuilt = COMMAND_TYPES.find((t) => commandSpec(t) === undefined);
    if (unbuilt) expect(parseCommand({ type: unbuilt, payload: {} })).toMatchObject({ ok: false, status: 501, reason: "not_implemented" });
  });

  it("a malformed payload → 400 naming the field", () => {
    const p = parseCommand({ type: "apply_config", payload: { settings: { "work_mem; drop table x": "1" } } });
    expect(p).toMatchObject({ ok: false, status: 400, reason: "invalid_payload" });
    if (!p.ok) expect(p.message).toMatch(/payload\.settings/);
    const q = parseCommand({ type: "apply_config", payload: { settings: {}, extra: 1 } });
    expect(q.ok).toBe(false);
    const r = parseCommand({ type: "read_config", payload: {}, sneaky: true });
    expect(r).toMatchObject({ ok: false, reason: "invalid_payload" });
  });

  it("the discriminated union validates by type", () => {
    expect(CommandSchema.safeParse({ type: "reset_config", payload: { knobs: ["work_mem"] } }).success).toBe(true);
    expect(CommandSchema.safeParse({ type: "reset_config", payload: { knobs: "work_mem" } }).success).toBe(false);
  });
});
