import { z } from "zod";
import { defineCommand } from "./define";
import { KnobNameSchema } from "./knob-name";

/** One setting as the target reports it (pg_settings), for a knob of the catalog. */
export const KnobSettingSchema = z.object({
  name: z.string(),
  /** pg_settings.setting: the value in the setting's base unit. */
  setting: z.string(),
  /** The base unit of `setting` ("kB", "8kB", "ms", …) or null. */
  unit: z.string().nullable(),
  /** current_setting(name): the value as SHOW prints it ("4MB"). */
  display: z.string(),
  vartype: z.string(),
  /** sighup, postmaster, user, … — postmaster means a change needs a restart. */
  context: z.string(),
  source: z.string(),
  minVal: z.string().nullable(),
  maxVal: z.string().nullable(),
  enumvals: z.array(z.string()).nullable(),
  /** A changed value is waiting for a restart. */
  pendingRestart: z.boolean(),
});

export type KnobSetting = z.output<typeof KnobSettingSchema>;

export const readConfigCommand = defineCommand({
  type: "read_config",
  summary: "current values, units, context and pending_restart of the catalog knobs",
  mutating: false,
  timeoutMs: 15_000,
  payload: z
    .object({
      /** Only these knobs (each must be in the catalog); default: the whole catalog. */
      knobs: z.array(KnobNameSchema).min(1).max(500).optional(),
    })
    .strict(),
  result: z.object({
    settings: z.array(KnobSettingSchema),
    /** Catalog knobs this server does not have (older version, extension not loaded). */
    unknownToServer: z.array(z.string()),
    serverVersion: z.string(),
  }),
});
