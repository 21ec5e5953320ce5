import { z } from "zod";
import { defineCommand } from "./define";
import { KnobNameSchema } from "./knob-name";

export const resetConfigCommand = defineCommand({
  type: "reset_config",
  summary: "ALTER SYSTEM RESET the given knobs (default: every catalog knob) and reload",
  mutating: true,
  timeoutMs: 30_000,
  payload: z
    .object({
      knobs: z.array(KnobNameSchema).min(1).max(500).optional(),
    })
    .strict(),
  result: z.object({
    /** Knobs that had an entry in postgresql.auto.conf and no longer do. */
    reset: z.array(z.object({ name: z.string(), previous: z.string() })),
    /** Of those, the ones whose old value stays in effect until a restart. */
    pendingRestart: z.array(z.string()),
    reloaded: z.boolean(),
  }),
});
