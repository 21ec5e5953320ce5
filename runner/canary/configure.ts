/**
 * configure_canary: give the canary its own settings. Every value is validated against the
 * canary's pg_settings first (all or nothing), each knob is classified by what a read-only
 * standby can test (src/core/canary/testable), ALTER SYSTEM writes the ones that may be applied,
 * and the canary is reloaded, or restarted when any of them has postmaster context. The result
 * says per knob whether it is in effect and whether the canary phase can judge it.
 *
 * SQL safety: a name reaches SQL only after validateConfig matched it against the catalog (or
 * the operator's allow-list) and pg_settings, and is quoted as an identifier; a value only as
 * validateConfig re-rendered it, quoted as a literal.
 */
import type pg from "pg";
import { canaryTestability, type Testability } from "../../src/core/canary";
import { PG_SETTINGS_QUERY, PgSettingRowSchema, currentValues, settingToBase, specFor, validateConfig, type KnobError, type KnobValue, type PgSettingRow, type ValidatedKnob } from "../../src/core/knobs";
import { sleep } from "../postgres/cluster";
import type { CanaryBackend } from "./backend";
import { marked, withClient } from "./sql";
import type { CanaryRecord } from "./state";

/** A reload reaches new backends asynchronously; wait this long for values to show. */
export const RELOAD_SETTLE_TIMEOUT_MS = 3_000;

export interface ConfigureRequest {
  settings: Readonly<Record<string, KnobValue>>;
  /** Protected or out-of-catalog settings the operator allows. */
  allow?: readonly string[];
}

export interface ConfiguredKnob {
  name: string;
  value: string;
  context: string;
  verdict: Testability["verdict"];
  applied: boolean;
  inEffect: boolean;
  why?: string;
}

export interface ConfigureResult {
  method: "reload" | "restart" | "none";
  knobs: ConfiguredKnob[];
  /** Knobs the canary phase cannot judge (not applied, or applied but not exercised). */
  notCanaryTestable: Array<{ name: string; verdict: Exclude<Testability["verdict"], "testable">; why: string }>;
  /** Time the canary was down for a restart. */
  restartMs?: number;
}

/** A bad config: nothing was written. */
export class InvalidCanaryConfigError extends Error {
  override name = "InvalidCanaryConfigError";
  constructor(readonly errors: KnobError[]) {
    super(`invalid config, nothing applied: ${errors.map((e) => `${e.knob}: ${e.message}`).join("; ")}`);
  }
}

export interface ConfigureDeps {
  canary: CanaryRecord;
  canaryUrl: string;
  primaryUrl: string;
  backend: CanaryBackend;
}

export async function configureCanary(deps: ConfigureDeps, req: ConfigureRequest): Promise<ConfigureResult> {
  const names = Object.keys(req.settings);
  const rows = await withClient(deps.canaryUrl, (c) => readSettings(c, names));
  const validation = validateConfig(req.settings, rows, { allow: req.allow ?? [] });
  if (!validation.ok) throw new InvalidCanaryConfigError(validation.errors);

  const primaryRows = await withClient(deps.primaryUrl, (c) => readSettings(c, names));
  const primaryValues = currentValues(primaryRows);
  const verdicts = new Map(validation.knobs.map((k) => [k.name, canaryTestability(k.name, k.value, primaryValues[k.name])]));
  const cannotRestart = new Set(deps.backend.canRestart ? [] : validation.knobs.filter((k) => k.restartRequired).map((k) => k.name));
  const toApply = validation.knobs.filter((k) => verdicts.get(k.name)!.apply && !cannotRestart.has(k.name));

  await withClient(deps.canaryUrl, (c) => writeAll(c, toApply));
  const needsRestart = toApply.some((k) => k.restartRequired);
  let method: ConfigureResult["method"] = "none";
  let restartMs: number | undefined;
  if (needsRestart) {
    const t0 = Date.now();
    await deps.backend.restart(deps.canary);
    restartMs = Date.now() - t0;
    method = "restart";
  } else if (toApply.length > 0) {
    await withClient(deps.canaryUrl, (c) => c.query(marked("select pg_reload_conf()")));
    method = "reload";
  }
  const inEffect = toApply.length > 0 ? await waitUntilInEffect(deps.canaryUrl, toApply) : new Set<string>();

  const knobs: ConfiguredKnob[] = validation.knobs.map((k) => {
    const t = verdicts.get(k.name)!;
    const why = cannotRestart.has(k.name)
      ? `${k.name} needs a restart (context ${k.context}), which the ${deps.backend.kind} canary backend cannot do; not applied`
      : t.verdict === "testable"
        ? undefined
        : t.why;
    return {
      name: k.name,
      value: k.rendered,
      context: k.context,
      verdict: t.verdict,
      applied: t.apply && !cannotRestart.has(k.name),
      inEffect: inEffect.has(k.name),
      ...(why === undefined ? {} : { why }),
    };
  });
  const notCanaryTestable = [...verdicts.values()].flatMap((t) => (t.verdict === "testable" ? [] : [{ name: t.name, verdict: t.verdict, why: t.why }]));
  return { method, knobs, notCanaryTestable, ...(restartMs === undefined ? {} : { restartMs }) };
}

async function readSettings(client: pg.Client, names: readonly string[]): Promise<PgSettingRow[]> {
  const { rows } = await client.query(marked(PG_SETTINGS_QUERY), [names]);
  return rows.map((r: unknown) => PgSettingRowSchema.parse(r));
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * ALTER SYSTEM cannot run in a transaction: when one fails half-way, the ones already written
 * are put back as they were in postgresql.auto.conf before the error is reported.
 */
async function writeAll(client: pg.Client, knobs: readonly ValidatedKnob[]): Promise<void> {
  const names = knobs.map((k) => k.name);
  const { rows } = await client.query<{ name: string; setting: string }>(
    marked("select name, setting from pg_file_settings where sourcefile like '%/postgresql.auto.conf' and name = any($1::text[]) order by seqno"),
    [names],
  );
  const previous = new Map(rows.map((r) => [r.name, r.setting]));
  const done: ValidatedKnob[] = [];
  const settingName = (n: string) => n.split(".").map(quoteIdent).join(".");
  for (const knob of knobs) {
    try {
      await client.query(marked(`alter system set ${settingName(knob.name)} = ${client.escapeLiteral(knob.rendered)}`));
      done.push(knob);
    } catch (err) {
      for (const k of done.reverse()) {
        const before = previous.get(k.name);
        const undo = before === undefined ? `alter system reset ${settingName(k.name)}` : `alter system set ${settingName(k.name)} = ${client.escapeLiteral(before)}`;
        await client.query(marked(undo)).catch(() => undefined);
      }
      throw new Error(`ALTER SYSTEM SET ${knob.name} on the canary failed: ${(err as Error).message}; the knobs written before it were restored`);
    }
  }
}

/** The names whose value the canary reports as the one written (one storage unit of rounding). */
async function waitUntilInEffect(url: string, knobs: readonly ValidatedKnob[]): Promise<Set<string>> {
  const deadline = Date.now() + RELOAD_SETTLE_TIMEOUT_MS;
  for (;;) {
    const rows = await withClient(url, (c) => readSettings(c, knobs.map((k) => k.name)));
    const byName = new Map(rows.map((r) => [r.name, r]));
    const ok = new Set(knobs.filter((k) => byName.has(k.name) && sameValue(byName.get(k.name)!, k.value)).map((k) => k.name));
    if (ok.size === knobs.length || Date.now() > deadline) return ok;
    await sleep(50);
  }
}

function sameValue(row: PgSettingRow, expected: KnobValue): boolean {
  if (row.pending_restart) return false;
  const spec = specFor(row);
  const actual = settingToBase(spec.kind, row.setting, row.unit);
  if (typeof expected === "number" && typeof actual === "number") {
    const unit = spec.kind === "memory" || spec.kind === "duration" ? Math.abs(Number(settingToBase(spec.kind, "1", row.unit))) : 0;
    return Math.abs(actual - expected) <= Math.max(unit, Math.abs(expected) * 1e-9);
  }
  return actual === expected;
}
