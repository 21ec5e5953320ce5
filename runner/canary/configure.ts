/**
 * configure_canary: give the canary its own settings. Every value is validated against the
 * canary's pg_settings first (all or nothing), each knob is classified by what a read-only
 * standby can test (src/core/canary/testable), ALTER SYSTEM writes the ones that may be applied,
 * and the canary is reloaded, or restarted when any of them has postmaster context. The result
 * says per knob whether it is in effect and whether the canary phase can judge it.
 *
 * Writing is runner/postgres/alter-system's (shared with apply_config), so the SQL safety rules
 * are the same: validated names and re-rendered values only, quoted.
 */
import type pg from "pg";
import { canaryTestability, type Testability } from "../../src/core/canary";
import { currentValues, validateConfig, type KnobError, type KnobValue, type PgSettingRow, type ValidatedKnob } from "../../src/core/knobs";
import { AlterSystemError, alterSystemSetAll, readAutoConf, readPgSettings, valueInEffect } from "../postgres/alter-system";
import { sleep } from "../postgres/cluster";
import type { CanaryBackend } from "./backend";
import { withClient } from "./sql";
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
    await withClient(deps.canaryUrl, (c) => c.query("select pg_reload_conf()"));
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
  return readPgSettings(client, names);
}

async function writeAll(client: pg.Client, knobs: readonly ValidatedKnob[]): Promise<void> {
  const previous = await readAutoConf(client, knobs.map((k) => k.name));
  try {
    await alterSystemSetAll(client, knobs, previous);
  } catch (err) {
    if (err instanceof AlterSystemError) throw new Error(`on the canary: ${err.message}`);
    throw err;
  }
}

/** The names whose value the canary reports as the one written, with no restart pending. */
async function waitUntilInEffect(url: string, knobs: readonly ValidatedKnob[]): Promise<Set<string>> {
  const deadline = Date.now() + RELOAD_SETTLE_TIMEOUT_MS;
  for (;;) {
    const rows = await withClient(url, (c) => readSettings(c, knobs.map((k) => k.name)));
    const byName = new Map(rows.map((r) => [r.name, r]));
    const ok = new Set(
      knobs.filter((k) => {
        const row = byName.get(k.name);
        return row !== undefined && !row.pending_restart && valueInEffect(row, k.value);
      }).map((k) => k.name),
    );
    if (ok.size === knobs.length || Date.now() > deadline) return ok;
    await sleep(50);
  }
}
