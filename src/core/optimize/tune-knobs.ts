/**
 * The knob optimizer pg2une runs: builds the search space for a workload class and machine,
 * warm-starts from the current configuration, PGTune and past observations of the same class,
 * and proposes the next configuration to try, which always passes the memory guard.
 *
 * Pure: observations in, proposal + provenance out. Storing observations (the
 * optimizer_observations table) is the caller's job.
 *
 * @example
 *   const next = proposeKnobConfig({
 *     workloadClass: "oltp", totalRamMb: 4096, current: currentValues(pgSettingsRows),
 *     pgtune: pgtuneValues(rec), observations: pastObservations, seed: 1,
 *   });
 *   next.rendered; // { shared_buffers: "1GB", work_mem: "8MB", … }
 *   next.objective; // "measured" | "surrogate" | "none"
 */
import { z } from "zod";
import { knobSpec } from "../knobs/catalog";
import { memoryGuard, memoryGuardLimitMb, MEMORY_GUARD, PG_DEFAULTS_MB, type MemoryGuardResult } from "../knobs/memory-guard";
import { workloadRanges, WORKLOAD_CLASSES, type KnobRange, type WorkloadClass } from "../knobs/ranges";
import { renderKnobValue, type KnobValue } from "../knobs/units";
import { SCORE_TYPES, type ScoreType } from "./objective";
import { NoFeasiblePointError, propose, type Observation, type ProposalSource } from "./propose";
import { buildSpace, type Config, type Dimension, type Space } from "./space";
import { surrogateScore } from "./surrogate";

export const KnobObservationSchema = z.object({
  workloadClass: z.enum(WORKLOAD_CLASSES as unknown as [WorkloadClass, ...WorkloadClass[]]),
  /** Knob values in base units (bytes, ms), as stored in optimizer_observations.config. */
  config: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])),
  /** improvementScore(...) for measured types; surrogateScore(...) for "surrogate". */
  score: z.number().refine(Number.isFinite, "must be finite"),
  scoreType: z.enum(SCORE_TYPES),
});
export type KnobObservation = z.output<typeof KnobObservationSchema>;

export interface KnobProposalInput {
  workloadClass: WorkloadClass;
  totalRamMb: number;
  /** The target's current values in base units (currentValues(pg_settings rows)). */
  current: Readonly<Record<string, KnobValue>>;
  /** Knobs to tune (default: every catalog knob); e.g. only reload-context ones in direct mode. */
  knobs?: readonly string[];
  cpus?: number;
  /** PGTune's recommendation in base units (pgtuneValues(...)), tried first. */
  pgtune?: Readonly<Record<string, KnobValue>>;
  observations: readonly KnobObservation[];
  seed: number;
  initialDesignSize?: number;
}

export type ObjectiveUsed = "measured" | "surrogate" | "none";

export interface KnobProposal {
  /** Proposed values in base units, tuned knobs only. */
  config: Record<string, KnobValue>;
  /** PostgreSQL syntax, e.g. "512MB", "5min", "off". */
  rendered: Record<string, string>;
  source: ProposalSource;
  warmStartSource?: string;
  /** Which scores drove the proposal: measured improvements, the heuristic prior, or none yet. */
  objective: ObjectiveUsed;
  observationsUsed: number;
  measuredObservations: number;
  /** Surrogate observations left out because measurements exist. */
  ignoredSurrogateObservations: number;
  memory: MemoryGuardResult;
  prediction?: { mean: number; interval: [number, number] };
}

export class MemoryGuardViolation extends Error {
  override name = "MemoryGuardViolation";
}

const MEASURED: ReadonlySet<ScoreType> = new Set(["live_test", "deployment"]);

function dimensionFor(r: KnobRange): Dimension {
  if (r.type === "bool") return { name: r.knob, type: "categorical", choices: [false, true] };
  return { name: r.knob, type: r.type, low: r.low, high: r.high, log: r.log };
}

/** What a stored value means for the search: wal_buffers = −1 is "auto" (shared_buffers/32, 64kB…16MB). */
function effectiveBase(name: string, value: KnobValue | undefined, config: Readonly<Record<string, KnobValue>>): KnobValue | undefined {
  if (name === "wal_buffers" && typeof value === "number" && value < 0) {
    const sb = typeof config.shared_buffers === "number" ? config.shared_buffers : 128 * 1024 * 1024;
    return Math.min(16 * 1024 * 1024, Math.max(64 * 1024, sb / 32));
  }
  return value;
}

export interface KnobSpace {
  space: Space;
  ranges: KnobRange[];
  /** Base-unit config → optimizer config (missing knobs filled from `fill`). */
  toSpace(config: Readonly<Record<string, KnobValue>>, fill: Readonly<Record<string, KnobValue>>): Config;
  /** Optimizer config → base units. */
  toBase(config: Config): Record<string, KnobValue>;
}

export function knobSpace(workloadClass: WorkloadClass, totalRamMb: number, options: { knobs?: readonly string[]; cpus?: number; autovacuumMaxWorkers?: number } = {}): KnobSpace {
  const all = workloadRanges(workloadClass, totalRamMb, {
    ...(options.cpus !== undefined ? { cpus: options.cpus } : {}),
    ...(options.autovacuumMaxWorkers !== undefined ? { autovacuumMaxWorkers: options.autovacuumMaxWorkers } : {}),
  });
  if (options.knobs) {
    const unknown = options.knobs.filter((k) => !all.some((r) => r.knob === k));
    if (unknown.length) throw new RangeError(`no search range for ${unknown.join(", ")} (not in the knob catalog)`);
  }
  const ranges = options.knobs ? all.filter((r) => options.knobs!.includes(r.knob)) : all;
  if (ranges.length === 0) throw new RangeError("no knobs to tune");
  const space = buildSpace({ dimensions: ranges.map(dimensionFor) });
  return {
    space,
    ranges,
    toSpace(config, fill) {
      const out: Config = {};
      const merged = { ...fill, ...config };
      for (const r of ranges) {
        const v = effectiveBase(r.knob, merged[r.knob], merged);
        if (r.type === "bool") {
          out[r.knob] = v === true || v === "on";
          continue;
        }
        let n = typeof v === "number" ? v / r.toBase : r.low;
        if (r.log && !(n > 0)) n = r.low;
        out[r.knob] = r.type === "int" ? Math.round(n) : n;
      }
      return out;
    },
    toBase(config) {
      const out: Record<string, KnobValue> = {};
      for (const r of ranges) {
        const v = config[r.knob];
        out[r.knob] = r.type === "bool" ? v === true : Number(v) * r.toBase;
      }
      return out;
    },
  };
}

const GUARDED = ["shared_buffers", "max_connections", "work_mem", "maintenance_work_mem"] as const;

/**
 * The nearest config (in the order that costs least) that passes the memory guard: lower
 * work_mem, then maintenance_work_mem, then max_connections, then shared_buffers, each no
 * further than its range's low end. The ranges guarantee the all-low corner fits, so when
 * every guarded knob is tuned this always succeeds; `feasible` still has the final word.
 */
export function repairMemory(config: Config, ks: KnobSpace, current: Readonly<Record<string, KnobValue>>, totalRamMb: number): Config {
  const out: Config = { ...config };
  const range = new Map(ks.ranges.map((r) => [r.knob, r]));
  const fromCurrent = (name: string, bytes: boolean, fallback: number) => {
    const v = current[name];
    return typeof v === "number" && v >= 0 ? (bytes ? v / (1024 * 1024) : v) : fallback;
  };
  const value = (name: (typeof GUARDED)[number]) =>
    range.has(name) ? Number(out[name]) : fromCurrent(name, name !== "max_connections", PG_DEFAULTS_MB[name]);
  const workers = fromCurrent("autovacuum_max_workers", false, PG_DEFAULTS_MB.autovacuum_max_workers);
  const limit = memoryGuardLimitMb(totalRamMb);
  const used = () => value("shared_buffers") + value("max_connections") * value("work_mem") * MEMORY_GUARD.workMemFactor + workers * value("maintenance_work_mem");
  const lower = (name: (typeof GUARDED)[number], target: number) => {
    const r = range.get(name);
    if (!r) return;
    out[name] = Math.max(r.low, Math.min(Number(out[name]), Math.floor(target)));
  };
  // Each step solves the guard for one knob with the others fixed.
  if (used() > limit) lower("work_mem", (limit - value("shared_buffers") - workers * value("maintenance_work_mem")) / (value("max_connections") * MEMORY_GUARD.workMemFactor));
  if (used() > limit) lower("maintenance_work_mem", (limit - value("shared_buffers") - value("max_connections") * value("work_mem") * MEMORY_GUARD.workMemFactor) / workers);
  if (used() > limit) lower("max_connections", (limit - value("shared_buffers") - workers * value("maintenance_work_mem")) / (value("work_mem") * MEMORY_GUARD.workMemFactor));
  if (used() > limit) lower("shared_buffers", limit - value("max_connections") * value("work_mem") * MEMORY_GUARD.workMemFactor - workers * value("maintenance_work_mem"));
  return out;
}

/** Consistency rules beyond the memory guard (PostgreSQL accepts these but they make no sense). */
function consistent(config: Readonly<Record<string, KnobValue>>, current: Readonly<Record<string, KnobValue>>): boolean {
  const minWal = config.min_wal_size ?? current.min_wal_size;
  const maxWal = config.max_wal_size ?? current.max_wal_size;
  return !(typeof minWal === "number" && typeof maxWal === "number" && minWal > maxWal);
}

export function proposeKnobConfig(input: KnobProposalInput): KnobProposal {
  const current = input.current;
  const autovacuum = typeof current.autovacuum_max_workers === "number" ? current.autovacuum_max_workers : undefined;
  const ks = knobSpace(input.workloadClass, input.totalRamMb, {
    ...(input.knobs ? { knobs: input.knobs } : {}),
    ...(input.cpus !== undefined ? { cpus: input.cpus } : {}),
    ...(autovacuum !== undefined ? { autovacuumMaxWorkers: autovacuum } : {}),
  });
  const feasible = (c: Config) => {
    const base = ks.toBase(c);
    return memoryGuard(base, current, input.totalRamMb).ok && consistent(base, current);
  };

  // Fail fast (and clearly) when even the smallest memory settings break the guard.
  const smallest: Config = Object.fromEntries(ks.ranges.map((r) => [r.knob, r.type === "bool" ? false : r.low]));
  const smallestBase = ks.toBase(smallest);
  const smallestMemory = memoryGuard(smallestBase, current, input.totalRamMb);
  if (!smallestMemory.ok) {
    throw new NoFeasiblePointError(
      `even the smallest settings need ${smallestMemory.estimateMb.toFixed(0)} MB > ${smallestMemory.limitMb.toFixed(0)} MB (90 % of ${input.totalRamMb} MB RAM); ` +
        `check total_ram_mb, or tune shared_buffers/max_connections/work_mem/maintenance_work_mem together`,
    );
  }

  const sameClass = input.observations.filter((o) => o.workloadClass === input.workloadClass);
  const measured = sameClass.filter((o) => MEASURED.has(o.scoreType));
  const surrogate = sameClass.filter((o) => o.scoreType === "surrogate");
  const objective: ObjectiveUsed = measured.length > 0 ? "measured" : surrogate.length > 0 ? "surrogate" : "none";
  const used = objective === "measured" ? measured : objective === "surrogate" ? surrogate : [];

  const observations: Observation[] = used.map((o) => ({ config: ks.toSpace(o.config, current), value: o.score }));
  // The current configuration is the baseline: improvement 0 by definition, or its heuristic score.
  if (objective !== "none") {
    const baseline = ks.toSpace({}, current);
    const value = objective === "measured" ? 0 : surrogateScore(current, input.workloadClass, input.totalRamMb);
    observations.push({ config: baseline, value });
  }
  const warmStart = input.pgtune ? [{ config: ks.toSpace(input.pgtune, current), source: "pgtune" }] : [];

  const proposal = propose(ks.space, observations, {
    seed: input.seed,
    goal: "maximize",
    warmStart,
    feasible,
    repair: (c) => repairMemory(c, ks, current, input.totalRamMb),
    ...(input.initialDesignSize !== undefined ? { initialDesignSize: input.initialDesignSize } : {}),
  });
  const config = ks.toBase(proposal.config);
  const memory = memoryGuard(config, current, input.totalRamMb);
  // Belt and braces: propose() only returns feasible points, but this is the promise we make.
  if (!memory.ok) throw new MemoryGuardViolation(`internal error: proposal would use ${memory.estimateMb.toFixed(0)} MB > ${memory.limitMb.toFixed(0)} MB`);
  const rendered: Record<string, string> = {};
  for (const [name, value] of Object.entries(config)) rendered[name] = renderKnobValue(knobSpec(name) ?? { kind: "integer" }, value);
  return {
    config,
    rendered,
    source: proposal.source,
    ...(proposal.warmStartSource ? { warmStartSource: proposal.warmStartSource } : {}),
    objective,
    observationsUsed: observations.length,
    measuredObservations: measured.length,
    ignoredSurrogateObservations: objective === "measured" ? surrogate.length : 0,
    memory,
    ...(proposal.prediction ? { prediction: { mean: proposal.prediction.mean, interval: proposal.prediction.interval } } : {}),
  };
}
