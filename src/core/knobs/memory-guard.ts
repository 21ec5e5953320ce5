/**
 * The memory guard, a hard constraint on every configuration pg2une proposes:
 *
 *   shared_buffers + max_connections × work_mem × 1.5 + autovacuum_max_workers × maintenance_work_mem
 *     ≤ 90 % of the machine's RAM
 *
 * A knob the configuration does not set takes the server's current value (or PostgreSQL's
 * default when that is unknown too). A configuration that fails is never proposed.
 *
 * @example
 *   memoryGuard({ work_mem: 64 * 2 ** 20 }, currentValues(rows), 4096).ok
 */
import type { KnobValue } from "./units";

export const MEMORY_GUARD = {
  /** Share of RAM the estimate may use. */
  ramFraction: 0.9,
  /** A query may use several work_mem-sized nodes; 1.5 per connection on average. */
  workMemFactor: 1.5,
} as const;

/** PostgreSQL's defaults, in MB (and a count), for knobs missing from both config and current. */
export const PG_DEFAULTS_MB = {
  shared_buffers: 128,
  max_connections: 100,
  work_mem: 4,
  maintenance_work_mem: 64,
  autovacuum_max_workers: 3,
} as const;

const MB = 1024 * 1024;

export interface MemoryGuardResult {
  ok: boolean;
  /** Estimated use and the limit, in MB. */
  estimateMb: number;
  limitMb: number;
  /** The values used, in MB (counts for max_connections / autovacuum_max_workers). */
  terms: {
    shared_buffers: number;
    max_connections: number;
    work_mem: number;
    autovacuum_max_workers: number;
    maintenance_work_mem: number;
  };
}

export function memoryGuardLimitMb(totalRamMb: number): number {
  return MEMORY_GUARD.ramFraction * totalRamMb;
}

function pick(name: keyof typeof PG_DEFAULTS_MB, config: Readonly<Record<string, KnobValue>>, current: Readonly<Record<string, KnobValue>>, isBytes: boolean): number {
  for (const source of [config, current]) {
    const v = source[name];
    if (typeof v === "number" && Number.isFinite(v) && v >= 0) return isBytes ? v / MB : v;
  }
  return PG_DEFAULTS_MB[name];
}

/** Memory values in `config` and `current` are in bytes (pg2une's base unit). */
export function memoryGuard(config: Readonly<Record<string, KnobValue>>, current: Readonly<Record<string, KnobValue>>, totalRamMb: number): MemoryGuardResult {
  const terms = {
    shared_buffers: pick("shared_buffers", config, current, true),
    max_connections: pick("max_connections", config, current, false),
    work_mem: pick("work_mem", config, current, true),
    autovacuum_max_workers: pick("autovacuum_max_workers", config, current, false),
    maintenance_work_mem: pick("maintenance_work_mem", config, current, true),
  };
  const estimateMb =
    terms.shared_buffers + terms.max_connections * terms.work_mem * MEMORY_GUARD.workMemFactor + terms.autovacuum_max_workers * terms.maintenance_work_mem;
  const limitMb = memoryGuardLimitMb(totalRamMb);
  return { ok: estimateMb <= limitMb, estimateMb, limitMb, terms };
}
