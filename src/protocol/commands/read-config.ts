import { z } from "zod";
import { PgSettingRowSchema } from "../../core/knobs";
import { defineCommand } from "./define";
import { KnobNameSchema } from "./knob-name";

/** One setting as the target reports it: its pg_settings row plus the value as SHOW prints it. */
export const KnobSettingSchema = PgSettingRowSchema.extend({
  /** current_setting(name), e.g. "4MB" (pg_settings.setting is in the base unit: "4096" kB). */
  display: z.string(),
});

export type KnobSetting = z.output<typeof KnobSettingSchema>;

export const readConfigCommand = defineCommand({
  type: "read_config",
  summary: "current values, units, context and pending_restart of the catalog knobs",
  mutating: false,
  timeoutMs: 15_000,
  payload: z
    .object({
      /** Only these knobs (each must be in the catalog or allow-listed); default: all of them. */
      knobs: z.array(KnobNameSchema).min(1).max(500).optional(),
    })
    .strict(),
  result: z.object({
    settings: z.array(KnobSettingSchema),
    /** Requested knobs this server does not have (older version, extension not loaded). */
    unknownToServer: z.array(z.string()),
    serverVersion: z.string(),
    /** Any setting (not only catalog ones) is waiting for a restart. */
    pendingRestart: z.boolean(),
  }),
});
