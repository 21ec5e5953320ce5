/**
 * `pg2une recommend <postgres-url> --ram 4GB --cpus 2 --storage ssd [--type oltp] [--json]`
 *
 * PGTune's recommendation for this machine, next to what the server runs now: per setting the
 * current value, the recommended one, why, and whether applying it needs a restart (from the
 * server's own pg_settings.context). Each recommended value is also checked against the
 * server's pg_settings (min/max/enum values); protected settings are marked as such.
 */
import pg from "pg";
import { z } from "zod";
import { forbiddenReason, PG_SETTINGS_QUERY, PgSettingRowSchema, renderKnobValue, requiresRestart, settingToBase, specFor, validateConfig, type PgSettingRow } from "../../../src/core/knobs";
import { pgtuneRecommend, PGTUNE_DB_TYPES, PGTUNE_STORAGE, type PgtuneSetting } from "../../../src/core/optimize/pgtune";
import { CliError, formatTable, parseCommandArgs, printJson } from "../io";
import { redactUrl as redact } from "../../net/redact";

export const USAGE = `Usage: pg2une recommend <postgres-url> --ram <size> --cpus <n> --storage <ssd|hdd|san|nvme> [--type <web|oltp|dw|desktop|mixed>] [--connections <n>] [--json]

  --ram          the server's RAM, e.g. 4GB, 512MB, 1.5TB
  --cpus         CPU count (parallel-worker settings need ≥ 4)
  --storage      data storage: ssd, hdd, san or nvme
  --type         workload, as PGTune names it (default web; olap = dw)
  --connections  expected max_connections (default: PGTune's per type)
  --json         machine-readable output`;

const SIZE_UNITS: Record<string, number> = { MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** "4GB" → bytes; the unit is required so "4" is never mistaken for bytes or GB. */
export function parseRam(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(MB|GB|TB)\s*$/i.exec(text);
  if (!m) throw new Error(`"${text}" is not a size like 4GB or 512MB`);
  const bytes = Math.round(Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]!);
  if (bytes < 64 * 1024 ** 2) throw new Error(`${text} is too small (at least 64MB)`);
  return bytes;
}

const ArgsSchema = z.object({
  ram: z.string({ error: "is required, e.g. --ram 4GB" }).transform((v, ctx) => {
    try {
      return parseRam(v);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  }),
  cpus: z.string({ error: "is required, e.g. --cpus 2" }).regex(/^\d+$/, "must be a positive integer").transform(Number).pipe(z.number().int().min(1, "must be ≥ 1")),
  storage: z.enum(PGTUNE_STORAGE, { error: `is required: one of ${PGTUNE_STORAGE.join(", ")}` }),
  type: z
    .enum([...PGTUNE_DB_TYPES, "olap"], { error: `must be one of ${PGTUNE_DB_TYPES.join(", ")} (or olap)` })
    .default("web")
    .transform((t) => (t === "olap" ? "dw" : t)),
  connections: z.string().regex(/^\d+$/, "must be a positive integer").transform(Number).pipe(z.number().int().min(1)).optional(),
  json: z.boolean().optional(),
  positionals: z.array(z.string()).length(1, "expected exactly one argument: the PostgreSQL URL"),
});

export interface RecommendRow {
  name: string;
  current: string | null;
  recommended: string;
  reason: string;
  /** From pg_settings.context; null when the server does not have this setting. */
  restartRequired: boolean | null;
  context: string | null;
  /** Why pg2une would not apply it without an operator's allow-list. */
  protected?: string;
  /** The server rejects this value (out of its range, unknown enum value…). */
  problem?: string;
}

function currentRendered(row: PgSettingRow): string {
  const spec = specFor(row);
  try {
    return renderKnobValue(spec, settingToBase(spec.kind, row.setting, row.unit));
  } catch {
    return row.setting;
  }
}

export function compare(settings: PgtuneSetting[], rows: PgSettingRow[]): RecommendRow[] {
  const byName = new Map(rows.map((r) => [r.name, r]));
  return settings.map((s) => {
    const row = byName.get(s.name);
    const out: RecommendRow = {
      name: s.name,
      current: row ? currentRendered(row) : null,
      recommended: s.rendered,
      reason: s.reason,
      restartRequired: row ? requiresRestart(row) : null,
      context: row?.context ?? null,
    };
    const protectedWhy = forbiddenReason(s.name);
    if (protectedWhy) out.protected = protectedWhy;
    if (!row) {
      out.problem = "this server has no such setting";
    } else {
      // Range check only: allow-list the one name so catalog/protection rules don't mask it.
      const result = validateConfig({ [s.name]: s.value }, rows, { allow: [s.name] });
      if (!result.ok) out.problem = result.errors.map((e) => e.message).join("; ");
    }
    return out;
  });
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    { ram: { type: "string" }, cpus: { type: "string" }, storage: { type: "string" }, type: { type: "string" }, connections: { type: "string" }, json: { type: "boolean" } },
    ArgsSchema,
    USAGE,
  );
  const url = values.positionals[0]!;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new CliError(`"${redact(url)}" is not a PostgreSQL URL (postgres://user@host:port/db)\n\n${USAGE}`);

  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  let rows: PgSettingRow[];
  let versionNum: number;
  try {
    await client.connect();
    const version = await client.query<{ server_version_num: string }>("show server_version_num");
    versionNum = Number(version.rows[0]?.server_version_num);
    const names = pgtuneRecommend({ dbType: values.type, totalMemoryBytes: values.ram, cpus: values.cpus, storage: values.storage, dbVersion: Math.floor(versionNum / 10000), ...(values.connections ? { connections: values.connections } : {}) }).settings.map((s) => s.name);
    const result = await client.query(PG_SETTINGS_QUERY, [names]);
    rows = result.rows.map((r) => PgSettingRowSchema.parse(r));
  } catch (err) {
    throw new CliError(`cannot read settings from ${redact(url)}: ${(err as Error).message}`, 1);
  } finally {
    await client.end().catch(() => undefined);
  }
  const major = Math.floor(versionNum / 10000);
  const rec = pgtuneRecommend({ dbType: values.type, totalMemoryBytes: values.ram, cpus: values.cpus, storage: values.storage, dbVersion: major, ...(values.connections ? { connections: values.connections } : {}) });
  const settings = compare(rec.settings, rows);
  if (values.json) {
    printJson({ server: { version: major, versionNum }, input: rec.input, settings, warnings: rec.warnings });
    return 0;
  }
  const gb = (values.ram / 1024 ** 3).toFixed(values.ram % 1024 ** 3 === 0 ? 0 : 1);
  process.stdout.write(`PGTune recommendation for PostgreSQL ${major}, ${rec.input.dbType}, ${gb} GB RAM, ${values.cpus} CPUs, ${values.storage}\n\n`);
  process.stdout.write(
    `${formatTable(
      ["setting", "current", "recommended", "restart", "reason"],
      settings.map((s) => [
        s.name,
        s.current ?? "—",
        s.recommended,
        s.restartRequired === null ? "?" : s.restartRequired ? "yes" : "no",
        [s.reason, s.protected ? `PROTECTED: ${s.protected}` : "", s.problem ? `SERVER REJECTS: ${s.problem}` : ""].filter(Boolean).join("; "),
      ]),
    )}\n`,
  );
  for (const w of rec.warnings) process.stdout.write(`\nwarning: ${w}`);
  process.stdout.write("\n");
  return 0;
}
