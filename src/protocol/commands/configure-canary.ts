import { z } from "zod";
import { KnobValueSchema } from "./apply-config";
import { defineCommand } from "./define";
import { KnobNameSchema } from "./knob-name";

const VerdictSchema = z.enum(["testable", "write_path", "standby_minimum"]);

export const configureCanaryCommand = defineCommand({
  type: "configure_canary",
  summary: "ALTER SYSTEM the given knobs on the canary (validated first, all or nothing) and reload or restart as they need",
  mutating: true,
  timeoutMs: 2 * 60_000,
  payload: z
    .object({
      settings: z.record(KnobNameSchema, KnobValueSchema).refine((s) => Object.keys(s).length > 0, "give at least one knob"),
    })
    .strict(),
  result: z.object({
    /** How the applied knobs were put in effect. */
    method: z.enum(["reload", "restart", "none"]),
    knobs: z.array(
      z.object({
        name: z.string(),
        value: z.string(),
        context: z.string(),
        /** Whether the canary phase can judge it (a read-only standby cannot judge every knob). */
        verdict: VerdictSchema,
        applied: z.boolean(),
        inEffect: z.boolean(),
        why: z.string().optional(),
      }),
    ),
    /** Knobs the canary phase says nothing about: not applied (standby minimums) or not exercised (write path). */
    notCanaryTestable: z.array(z.object({ name: z.string(), verdict: VerdictSchema.exclude(["testable"]), why: z.string() })),
    restartMs: z.number().optional(),
  }),
});
