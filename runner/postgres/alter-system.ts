/**
 * Writing settings with ALTER SYSTEM, shared by apply_config (the primary) and configure_canary
 * (the canary): read what postgresql.auto.conf holds, write all knobs or none, and tell whether
 * the server now reports a value.
 *
 * SQL safety: names and values reach SQL only as validateConfig produced them (catalog or
 * allow-listed name, re-rendered value), quoted as identifier and literal.
 */
import type pg from "pg";
import { PG_SETTINGS_QUERY, PgSettingRowSchema, settingToBase, specFor, type KnobValue, type PgSettingRow, type ValidatedKnob } from "../../src/core/knobs";
import { quoteLiteral, quoteSettingName } from "../../src/core/sql/quote";

export async function readPgSettings(client: pg.Client, names: readonly string[]): Promise<PgSettingRow[]> {
  const { rows } = await client.query(PG_SETTINGS_QUERY, [names]);
  return rows.map((r: unknown) => PgSettingRowSchema.parse(r));
}

/** name → value as written in postgresql.auto.conf (pg_file_settings re-reads the files). */
export async function readAutoConf(client: pg.Client, names: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; setting: string }>(
    `select name, setting from pg_file_settings
      where sourcefile like '%/postgresql.auto.conf' and name = any($1::text[])
      order by seqno`,
    [names],
  );
  return new Map(rows.map((r) => [r.name, r.setting]));
}

/** ALTER SYSTEM SET of one knob failed; the ones written before it were put back (or not: restoreProblems). */
export class AlterSystemError extends Error {
  override name = "AlterSystemError";
  constructor(
    readonly knob: string,
    readonly serverMessage: string,
    readonly restoreProblems: string[],
  ) {
    super(
      `ALTER SYSTEM SET ${knob} failed: ${serverMessage}; ${restoreProblems.length === 0 ? "the knobs written before it were restored" : `restoring failed for ${restoreProblems.join("; ")}`}`,
    );
  }
}

/**
 * ALTER SYSTEM cannot run in a transaction, so "all or nothing" on a failure half-way means
 * putting back what was already written (as postgresql.auto.conf had it in `previous`).
 */
export async function alterSystemSetAll(client: pg.Client, knobs: readonly ValidatedKnob[], previous: ReadonlyMap<string, string>): Promise<void> {
  const done: ValidatedKnob[] = [];
  for (const knob of knobs) {
    try {
      await client.query(`alter system set ${quoteSettingName(knob.name)} = ${quoteLiteral(knob.rendered)}`);
      done.push(knob);
    } catch (err) {
      const restoreProblems: string[] = [];
      for (const k of done.reverse()) {
        const before = previous.get(k.name);
        const sql = before === undefined ? `alter system reset ${quoteSettingName(k.name)}` : `alter system set ${quoteSettingName(k.name)} = ${quoteLiteral(before)}`;
        await client.query(sql).catch((e: unknown) => restoreProblems.push(`${k.name}: ${(e as Error).message}`));
      }
      throw new AlterSystemError(knob.name, (err as Error).message, restoreProblems);
    }
  }
}

/** Does the server report `expected` (base units)? Memory/durations are stored in whole units of the setting, so one unit of rounding is allowed. */
export function valueInEffect(row: PgSettingRow, expected: KnobValue): boolean {
  const spec = specFor(row);
  const actual = settingToBase(spec.kind, row.setting, row.unit);
  if (typeof expected === "number" && typeof actual === "number") {
    const unitSize = spec.kind === "memory" || spec.kind === "duration" ? Math.abs(Number(settingToBase(spec.kind, "1", row.unit))) : 0;
    return Math.abs(actual - expected) <= Math.max(unitSize, Math.abs(expected) * 1e-9);
  }
  return actual === expected;
}
