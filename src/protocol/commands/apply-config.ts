import { z } from "zod";
import { defineCommand } from "./define";
import { KnobNameSchema } from "./knob-name";

export const KnobValueSchema = z.union([z.string().max(1024), z.number(), z.boolean()]);

/** A knob as written by ALTER SYSTEM. */
export const WrittenKnobSchema = z.object({
  name: z.string(),
  /** The value as written (rendered with its unit). */
  value: z.string(),
  context: z.string(),
  /** The entry postgresql.auto.conf had before, or null when there was none. */
  previous: z.string().nullable(),
});

export const applyConfigCommand = defineCommand({
  type: "apply_config",
  summary: "ALTER SYSTEM SET the given knobs (validated first, all or nothing) and reload",
  mutating: true,
  timeoutMs: 30_000,
  payload: z
    .object({
      settings: z.record(KnobNameSchema, KnobValueSchema).refine((s) => Object.keys(s).length > 0, "give at least one knob"),
      /**
       * Knobs whose context needs a restart: "skip" leaves them out (direct mode) and lists them
       * in skippedNeedsRestart; "write" writes them too (canary, restarted afterwards).
       */
      restartKnobs: z.enum(["skip", "write"]).default("skip"),
    })
    .strict(),
  result: z.object({
    /** Written and in effect after the reload. */
    applied: z.array(WrittenKnobSchema),
    /** Needs a restart, left out (restartKnobs = "skip"). */
    skippedNeedsRestart: z.array(z.object({ name: z.string(), value: z.string(), context: z.string() })),
    /** Written, takes effect at the next restart (restartKnobs = "write"). */
    pendingRestart: z.array(WrittenKnobSchema),
    /** Written, but the server did not take the value at reload (its message). */
    errors: z.array(z.object({ knob: z.string(), message: z.string() })),
    reloaded: z.boolean(),
  }),
});
