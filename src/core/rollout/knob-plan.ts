/**
 * From "what the optimizer (or an operator) proposes" to "what this run changes":
 *
 *   proposeKnobs     the optimizer (src/core/optimize/tune-knobs.ts), warm-started from the
 *                    target's current config, PGTune's recommendation for its machine and past
 *                    measured observations of the same workload class
 *   planKnobChange   validated against the target's pg_settings; knobs already at the proposed
 *                    value are left alone; in direct mode restart-context knobs are left out and
 *                    reported as "canary only" (only the canary path restarts a server)
 *
 * Pure: the caller loads observations and pg_settings; nothing here does I/O.
 */
import { currentValues, validateConfig, type KnobError, type KnobValue, type PgSettingRow, type WorkloadClass } from "../knobs";
import { pgtuneRecommend, pgtuneValues } from "../optimize/pgtune";
import { knobSpace, proposeKnobConfig, type KnobObservation, type KnobProposal } from "../optimize/tune-knobs";
import type { RolloutMode } from "./run-state";

export interface ProposalRequest {
  workloadClass: WorkloadClass;
  totalRamMb: number;
  cpus: number | null;
  storage: "ssd" | "hdd" | "san" | null;
  /** Server major version (from read_config's serverVersion). */
  serverMajor: number;
  settings: readonly PgSettingRow[];
  seed: number;
}

/** PGTune's names for our workload classes. */
const PGTUNE_TYPE: Record<WorkloadClass, "oltp" | "dw" | "mixed"> = { oltp: "oltp", olap: "dw", mixed: "mixed" };
/** PGTune needs a CPU count and storage kind; these are its own defaults' spirit when unknown. */
export const ASSUMED_CPUS = 2;
export const ASSUMED_STORAGE = "ssd" as const;

/** The catalog knobs this server has and the optimizer has a range for. */
export function tunableKnobs(request: Pick<ProposalRequest, "workloadClass" | "totalRamMb" | "settings">): string[] {
  const onServer = new Set(request.settings.map((r) => r.name));
  return knobSpace(request.workloadClass, request.totalRamMb).ranges.map((r) => r.knob).filter((k) => onServer.has(k));
}

export function proposeKnobs(request: ProposalRequest, observations: readonly KnobObservation[]): KnobProposal {
  const current = currentValues(request.settings);
  const cpus = request.cpus ?? ASSUMED_CPUS;
  const pgtune = pgtuneRecommend({
    dbType: PGTUNE_TYPE[request.workloadClass],
    totalMemoryBytes: request.totalRamMb * 1024 * 1024,
    cpus,
    storage: request.storage ?? ASSUMED_STORAGE,
    dbVersion: Math.max(10, request.serverMajor),
  });
  return proposeKnobConfig({
    workloadClass: request.workloadClass,
    totalRamMb: request.totalRamMb,
    current,
    knobs: tunableKnobs(request),
    cpus,
    pgtune: pgtuneValues(pgtune),
    observations,
    seed: request.seed,
  });
}

export interface PlannedKnob {
  name: string;
  /** As written by ALTER SYSTEM, e.g. "64MB". */
  value: string;
  /** The value in effect before the run (SHOW), e.g. "4MB". */
  from: string;
  context: string;
  restartRequired: boolean;
}

export interface KnobChangePlan {
  /** What this run writes (rendered values). */
  apply: PlannedKnob[];
  /** Restart-context knobs left out in direct mode: only the canary path can try them. */
  canaryOnly: PlannedKnob[];
  /** Proposed at the value already in effect. */
  unchanged: string[];
}

export type PlanResult = { ok: true; plan: KnobChangePlan } | { ok: false; errors: KnobError[] };

/** `display` is SHOW's rendering; fall back to the raw setting with its unit. */
function shown(row: PgSettingRow & { display?: string }): string {
  return row.display ?? `${row.setting}${row.unit ?? ""}`;
}

export function planKnobChange(
  proposed: Readonly<Record<string, KnobValue>>,
  settings: ReadonlyArray<PgSettingRow & { display?: string }>,
  mode: RolloutMode,
): PlanResult {
  const validation = validateConfig(proposed, settings);
  if (!validation.ok) return { ok: false, errors: validation.errors };
  const rows = new Map(settings.map((r) => [r.name, r]));
  const now = currentValues(settings);
  const plan: KnobChangePlan = { apply: [], canaryOnly: [], unchanged: [] };
  for (const knob of validation.knobs) {
    const row = rows.get(knob.name)!;
    if (sameValue(now[knob.name], knob.value)) {
      plan.unchanged.push(knob.name);
      continue;
    }
    const planned: PlannedKnob = { name: knob.name, value: knob.rendered, from: shown(row), context: knob.context, restartRequired: knob.restartRequired };
    if (knob.restartRequired && mode === "direct") plan.canaryOnly.push(planned);
    else plan.apply.push(planned);
  }
  const byName = (a: PlannedKnob, b: PlannedKnob) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  plan.apply.sort(byName);
  plan.canaryOnly.sort(byName);
  plan.unchanged.sort();
  return { ok: true, plan };
}

function sameValue(a: KnobValue | undefined, b: KnobValue): boolean {
  if (a === undefined) return false;
  if (typeof a === "number" && typeof b === "number") return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  return String(a) === String(b);
}

/** name → rendered value, as apply_config / configure_canary take it. */
export function settingsOf(knobs: readonly PlannedKnob[]): Record<string, string> {
  return Object.fromEntries(knobs.map((k) => [k.name, k.value]));
}

/** The configuration in effect after applying `knobs` (base units), for optimizer_observations. */
export function configAfter(settings: readonly PgSettingRow[], knobs: readonly PlannedKnob[]): Record<string, KnobValue> {
  const after = { ...currentValues(settings) };
  const validated = validateConfig(settingsOf(knobs), settings);
  if (validated.ok) for (const k of validated.knobs) after[k.name] = k.value;
  return after;
}
