/**
 * Where the optimizer may search, per workload class, as a function of the machine's RAM.
 *
 * The six knobs of the original pg2une (shared_buffers, effective_cache_size, work_mem,
 * maintenance_work_mem, random_page_cost, max_connections) keep its ranges (lib/pg2une/
 * tunable.ex), with one change: on small machines work_mem's range is lowered until the
 * smallest configuration passes the memory guard, otherwise the whole space could be
 * forbidden. The other knobs get ranges from the PostgreSQL documentation and PGTune's
 * per-type values, noted next to each.
 *
 * Ranges are in "dimension units" (MB for memory, s or ms for durations) so the optimizer
 * works with readable integers; `toBase` converts to pg2une's base units (bytes, ms).
 */
import { knobSpec } from "./catalog";
import { memoryGuardLimitMb, MEMORY_GUARD, PG_DEFAULTS_MB } from "./memory-guard";

export type WorkloadClass = "oltp" | "olap" | "mixed";
export const WORKLOAD_CLASSES: readonly WorkloadClass[] = ["oltp", "olap", "mixed"];

export interface KnobRange {
  knob: string;
  type: "int" | "float" | "bool";
  low: number;
  high: number;
  /** From the catalog's logScale. */
  log: boolean;
  /** Unit of low/high: "MB", "s", "ms" or null (unitless). */
  unit: "MB" | "s" | "ms" | null;
  /** Multiply a dimension value by this to get base units (bytes or ms). */
  toBase: number;
  /** Where the range comes from. */
  source: string;
}

export interface RangeOptions {
  /** CPU count, bounds max_parallel_workers_per_gather. */
  cpus?: number;
  /** autovacuum_max_workers on the target (for the memory-guard feasibility of work_mem). */
  autovacuumMaxWorkers?: number;
}

const MB = 1024 * 1024;
const SEED = "pg2une (Elixir) tunable.ex";

interface SeedRanges {
  sharedBuffersPct: [number, number];
  effectiveCachePct: [number, number];
  workMemMb: [number, number];
  maintenanceWorkMemMb: [number, number];
  randomPageCost: [number, number];
  maxConnections: [number, number];
}

const SEED_RANGES: Record<WorkloadClass, SeedRanges> = {
  oltp: { sharedBuffersPct: [20, 30], effectiveCachePct: [60, 75], workMemMb: [4, 64], maintenanceWorkMemMb: [64, 1024], randomPageCost: [1.1, 2.0], maxConnections: [100, 500] },
  olap: { sharedBuffersPct: [25, 40], effectiveCachePct: [65, 80], workMemMb: [128, 512], maintenanceWorkMemMb: [256, 2048], randomPageCost: [1.1, 4.0], maxConnections: [50, 200] },
  mixed: { sharedBuffersPct: [22, 35], effectiveCachePct: [60, 75], workMemMb: [32, 128], maintenanceWorkMemMb: [128, 1024], randomPageCost: [1.1, 3.0], maxConnections: [75, 300] },
};

/** Ranges for the knobs outside the seed: [oltp, olap, mixed]. */
const OTHER_RANGES: Record<string, { type: KnobRange["type"]; unit: KnobRange["unit"]; byClass: Record<WorkloadClass, [number, number]>; source: string }> = {
  effective_io_concurrency: { type: "int", unit: null, byClass: { oltp: [1, 300], olap: [1, 300], mixed: [1, 300] }, source: "PGTune: 2 (HDD) … 200 (SSD) … 300 (SAN)" },
  max_wal_size: { type: "int", unit: "MB", byClass: { oltp: [1024, 16384], olap: [2048, 32768], mixed: [1024, 16384] }, source: "PGTune: 4GB web/mixed, 8GB OLTP, 16GB DW; ×½…×2" },
  min_wal_size: { type: "int", unit: "MB", byClass: { oltp: [256, 4096], olap: [512, 8192], mixed: [256, 4096] }, source: "PGTune: 1GB web/mixed, 2GB OLTP, 4GB DW; ×¼…×2" },
  checkpoint_completion_target: { type: "float", unit: null, byClass: { oltp: [0.5, 0.95], olap: [0.5, 0.95], mixed: [0.5, 0.95] }, source: "PostgreSQL docs (default 0.9 since 14)" },
  checkpoint_timeout: { type: "int", unit: "s", byClass: { oltp: [300, 1800], olap: [300, 3600], mixed: [300, 1800] }, source: "PostgreSQL docs: default 5min; longer spreads I/O" },
  wal_buffers: { type: "int", unit: "MB", byClass: { oltp: [1, 64], olap: [1, 64], mixed: [1, 64] }, source: "PGTune: 3 % of shared_buffers, ≤ 16MB; up to 64MB for write bursts" },
  default_statistics_target: { type: "int", unit: null, byClass: { oltp: [50, 500], olap: [100, 2000], mixed: [100, 1000] }, source: "PGTune: 100, 500 for DW; PostgreSQL max 10000" },
  max_parallel_workers_per_gather: { type: "int", unit: null, byClass: { oltp: [0, 4], olap: [0, 8], mixed: [0, 4] }, source: "PGTune: ⌈CPUs/2⌉, ≤ 4 except DW; ≤ CPUs" },
  jit: { type: "bool", unit: null, byClass: { oltp: [0, 1], olap: [0, 1], mixed: [0, 1] }, source: "PGTune: off for web/OLTP/mixed" },
  bgwriter_lru_maxpages: { type: "int", unit: null, byClass: { oltp: [0, 1000], olap: [0, 1000], mixed: [0, 1000] }, source: "PostgreSQL docs: default 100, 0 disables" },
  bgwriter_delay: { type: "int", unit: "ms", byClass: { oltp: [10, 1000], olap: [10, 1000], mixed: [10, 1000] }, source: "PostgreSQL docs: default 200ms, 10ms…10s" },
};

function toBaseFactor(unit: KnobRange["unit"]): number {
  return unit === "MB" ? MB : unit === "s" ? 1000 : 1;
}

function range(knob: string, type: KnobRange["type"], low: number, high: number, unit: KnobRange["unit"], source: string): KnobRange {
  return { knob, type, low, high, log: type !== "bool" && (knobSpec(knob)?.logScale ?? false), unit, toBase: toBaseFactor(unit), source };
}

/** The search range of every catalog knob for a workload class and machine. */
export function workloadRanges(workloadClass: WorkloadClass, totalRamMb: number, options: RangeOptions = {}): KnobRange[] {
  if (!(totalRamMb > 0)) throw new RangeError(`total_ram_mb must be > 0, got ${totalRamMb}`);
  const seed = SEED_RANGES[workloadClass];
  const pct = (p: number) => Math.max(16, Math.floor((totalRamMb * p) / 100));
  const sharedBuffers: [number, number] = [pct(seed.sharedBuffersPct[0]), pct(seed.sharedBuffersPct[1])];
  const connections = seed.maxConnections;
  const autovacuumWorkers = options.autovacuumMaxWorkers ?? PG_DEFAULTS_MB.autovacuum_max_workers;
  const maintenance = feasibleMaintenance(seed.maintenanceWorkMemMb, sharedBuffers[0], connections[0], totalRamMb, autovacuumWorkers);
  const workMem = feasibleWorkMem(seed.workMemMb, sharedBuffers[0], connections[0], maintenance.range[0], totalRamMb, autovacuumWorkers);
  const ranges: KnobRange[] = [
    range("shared_buffers", "int", sharedBuffers[0], sharedBuffers[1], "MB", `${SEED}: ${seed.sharedBuffersPct.join("–")} % of RAM`),
    range("effective_cache_size", "int", pct(seed.effectiveCachePct[0]), pct(seed.effectiveCachePct[1]), "MB", `${SEED}: ${seed.effectiveCachePct.join("–")} % of RAM`),
    range("work_mem", "int", workMem.range[0], workMem.range[1], "MB", workMem.note),
    range("maintenance_work_mem", "int", maintenance.range[0], maintenance.range[1], "MB", maintenance.note),
    range("random_page_cost", "float", seed.randomPageCost[0], seed.randomPageCost[1], null, SEED),
    range("max_connections", "int", connections[0], connections[1], null, SEED),
  ];
  for (const [knob, r] of Object.entries(OTHER_RANGES)) {
    let [low, high] = r.byClass[workloadClass];
    if (knob === "max_parallel_workers_per_gather" && options.cpus !== undefined) high = Math.max(low, Math.min(high, options.cpus));
    ranges.push(range(knob, r.type, low, high, r.unit, r.source));
  }
  return ranges;
}

/** Smallest work_mem the guard must leave room for at the low corner, in MB. */
const MIN_WORK_MEM_MB = 1;

/**
 * Lowers the seed's maintenance_work_mem range (keeping its ratio) when autovacuum workers ×
 * its minimum would leave no room for 1 MB of work_mem per connection (machines < ~1.5 GB).
 */
function feasibleMaintenance(
  seedRange: [number, number],
  sharedBuffersMb: number,
  maxConnections: number,
  totalRamMb: number,
  autovacuumWorkers: number,
): { range: [number, number]; note: string } {
  const budget = memoryGuardLimitMb(totalRamMb) - sharedBuffersMb - maxConnections * MIN_WORK_MEM_MB * MEMORY_GUARD.workMemFactor;
  const maxAtLowCorner = Math.floor(budget / Math.max(autovacuumWorkers, 1));
  if (seedRange[0] <= maxAtLowCorner) return { range: seedRange, note: SEED };
  const high = Math.max(1, maxAtLowCorner);
  const low = Math.max(1, Math.min(high, Math.floor((high * seedRange[0]) / seedRange[1])));
  return { range: [low, high], note: `${SEED}, lowered to ${low}–${high} MB so the smallest config passes the memory guard on ${totalRamMb} MB RAM` };
}

/**
 * Lowers the seed's work_mem range (keeping its ratio) until the smallest config fits the
 * memory guard; on big machines it is unchanged.
 */
function feasibleWorkMem(
  seedRange: [number, number],
  sharedBuffersMb: number,
  maxConnections: number,
  maintenanceWorkMemMb: number,
  totalRamMb: number,
  autovacuumWorkers: number,
): { range: [number, number]; note: string } {
  const budget = memoryGuardLimitMb(totalRamMb) - sharedBuffersMb - autovacuumWorkers * maintenanceWorkMemMb;
  const maxWorkMemAtLowCorner = Math.floor(budget / (maxConnections * MEMORY_GUARD.workMemFactor));
  if (seedRange[0] <= maxWorkMemAtLowCorner) return { range: seedRange, note: SEED };
  const high = Math.max(1, maxWorkMemAtLowCorner);
  const low = Math.max(1, Math.min(high, Math.floor((high * seedRange[0]) / seedRange[1])));
  return { range: [low, Math.max(low, high)], note: `${SEED}, lowered to ${low}–${high} MB so the smallest config passes the memory guard on ${totalRamMb} MB RAM` };
}
