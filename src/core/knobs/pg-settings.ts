/**
 * The target's own description of its settings (pg_settings), read by the runner and used to
 * validate every proposed value: min/max, enum values, and whether a restart is needed.
 */
import { z } from "zod";
import { knobSpec, type KnobKind, type KnobSpec } from "./catalog";
import { settingToBase, type KnobValue } from "./units";

/** Columns we read; `enumvals` is a text[] (node-postgres gives an array). */
export const PG_SETTINGS_COLUMNS = [
  "name",
  "setting",
  "unit",
  "vartype",
  "context",
  "min_val",
  "max_val",
  "enumvals",
  "boot_val",
  "reset_val",
  "pending_restart",
] as const;

/** `$1` is a text[] of setting names. */
export const PG_SETTINGS_QUERY = `select ${PG_SETTINGS_COLUMNS.join(", ")} from pg_settings where name = any($1::text[]) order by name`;

export const PgSettingRowSchema = z.object({
  name: z.string(),
  setting: z.string(),
  unit: z.string().nullable(),
  vartype: z.enum(["bool", "enum", "integer", "real", "string"]),
  context: z.string(),
  min_val: z.string().nullable(),
  max_val: z.string().nullable(),
  enumvals: z.array(z.string()).nullable(),
  boot_val: z.string().nullable(),
  reset_val: z.string().nullable(),
  pending_restart: z.boolean(),
});

export type PgSettingRow = z.output<typeof PgSettingRowSchema>;

/** Contexts in which ALTER SYSTEM + reload takes effect without a restart. */
const RELOADABLE_CONTEXTS = new Set(["sighup", "superuser", "user", "superuser-backend", "backend"]);

export function requiresRestart(row: Pick<PgSettingRow, "context">): boolean {
  return row.context === "postmaster";
}

export function isChangeable(row: Pick<PgSettingRow, "context">): boolean {
  return row.context === "postmaster" || RELOADABLE_CONTEXTS.has(row.context);
}

/** The kind of a setting as pg_settings describes it (for allow-listed knobs outside the catalog). */
export function kindFromRow(row: Pick<PgSettingRow, "vartype" | "unit">): KnobKind {
  switch (row.vartype) {
    case "bool":
      return "bool";
    case "enum":
    case "string":
      return "enum";
    case "real":
      return row.unit && ["ms", "s", "min", "us"].includes(row.unit) ? "duration" : "real";
    case "integer":
      if (!row.unit) return "integer";
      return ["ms", "s", "min", "us", "h", "d"].includes(row.unit) ? "duration" : "memory";
  }
}

/** The catalog spec, or one derived from pg_settings for a knob outside the catalog. */
export function specFor(row: PgSettingRow): KnobSpec {
  return (
    knobSpec(row.name) ?? {
      name: row.name,
      kind: kindFromRow(row),
      pgUnit: (row.unit ?? null) as KnobSpec["pgUnit"],
      logScale: false,
      description: "(outside pg2une's catalog; allow-listed by an operator)",
    }
  );
}

/** Current values in base units (bytes, ms) keyed by name. */
export function currentValues(rows: readonly PgSettingRow[]): Record<string, KnobValue> {
  const out: Record<string, KnobValue> = {};
  for (const row of rows) out[row.name] = settingToBase(specFor(row).kind, row.setting, row.unit);
  return out;
}
