/**
 * Validates a proposed configuration against the target's pg_settings before anything is
 * applied. All or nothing: one bad value makes the whole config invalid, and every problem is
 * reported by knob name so the caller can say exactly what was wrong.
 */
import { forbiddenReason, knobSpec } from "./catalog";
import { isChangeable, requiresRestart, specFor, type PgSettingRow } from "./pg-settings";
import { KnobValueError, parseKnobValue, renderKnobValue, settingToBase, type KnobValue } from "./units";

export interface ValidatedKnob {
  name: string;
  /** Value in base units (bytes, ms), booleans and enum strings as they are. */
  value: KnobValue;
  /** PostgreSQL syntax for ALTER SYSTEM SET, e.g. "64MB". Still needs literal quoting. */
  rendered: string;
  context: string;
  restartRequired: boolean;
}

export interface KnobError {
  knob: string;
  message: string;
}

export type ValidationResult = { ok: true; knobs: ValidatedKnob[] } | { ok: false; errors: KnobError[] };

export interface ValidateOptions {
  /** Protected or out-of-catalog settings an operator explicitly allowed. */
  allow?: readonly string[];
}

export function validateConfig(
  config: Readonly<Record<string, KnobValue>>,
  settings: readonly PgSettingRow[],
  opts: ValidateOptions = {},
): ValidationResult {
  const allow = opts.allow ?? [];
  const rows = new Map(settings.map((r) => [r.name, r]));
  const knobs: ValidatedKnob[] = [];
  const errors: KnobError[] = [];

  for (const [name, raw] of Object.entries(config)) {
    const problem = checkKnob(name, raw, rows.get(name), allow);
    if (typeof problem === "string") errors.push({ knob: name, message: problem });
    else knobs.push(problem);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, knobs };
}

function checkKnob(name: string, raw: KnobValue, row: PgSettingRow | undefined, allow: readonly string[]): ValidatedKnob | string {
  if (!/^[a-z_][a-z0-9_.]*$/.test(name)) return `"${name}" is not a valid setting name`;
  const protectedWhy = forbiddenReason(name, allow);
  if (protectedWhy) return `${name} is protected (${protectedWhy}); an operator must allow-list it explicitly`;
  if (!knobSpec(name) && !allow.includes(name)) return `unknown knob ${name}: not in pg2une's catalog (allow-list it to tune it anyway)`;
  if (!row) return `${name} does not exist on this server`;
  if (!isChangeable(row)) return `${name} cannot be changed (context ${row.context})`;

  const spec = specFor(row);
  let value: KnobValue;
  try {
    value = parseKnobValue(spec, raw);
  } catch (err) {
    return err instanceof KnobValueError ? err.message : String(err);
  }

  const rangeProblem = checkRange(spec.kind, value, row);
  if (rangeProblem) return `${name} = ${JSON.stringify(raw)}: ${rangeProblem}`;

  return { name, value, rendered: renderKnobValue(spec, value), context: row.context, restartRequired: requiresRestart(row) };
}

function checkRange(kind: ReturnType<typeof specFor>["kind"], value: KnobValue, row: PgSettingRow): string | undefined {
  if (kind === "bool") return undefined;
  if (kind === "enum") {
    if (row.enumvals && !row.enumvals.includes(String(value))) return `must be one of ${row.enumvals.join(", ")}`;
    return undefined;
  }
  const n = Number(value);
  const min = row.min_val === null ? undefined : Number(settingToBase(kind, row.min_val, row.unit));
  const max = row.max_val === null ? undefined : Number(settingToBase(kind, row.max_val, row.unit));
  // PostgreSQL stores memory in whole units of the setting (e.g. 8kB pages): a value that
  // rounds to zero units is below any positive minimum.
  if (min !== undefined && n < min) return `below the server's minimum ${renderBound(kind, min)}`;
  if (max !== undefined && n > max) return `above the server's maximum ${renderBound(kind, max)}`;
  if (row.vartype === "integer" && (kind === "memory" || kind === "duration") && n >= 0) {
    const unitSize = Number(settingToBase(kind, "1", row.unit));
    if (n > 0 && n < unitSize) return `smaller than one ${row.unit} unit`;
  }
  return undefined;
}

function renderBound(kind: ReturnType<typeof specFor>["kind"], n: number): string {
  return kind === "memory" || kind === "duration" ? renderKnobValue({ kind }, n) : String(n);
}
