/**
 * Which settings a canary (a hot standby that serves read-only traffic) can actually test.
 *
 * Two kinds cannot be tested there, and saying so beats reporting a comparison that measured
 * nothing:
 *  - standby minimums: a hot standby refuses to start (recovery stops with "insufficient
 *    parameter settings") when these are below the primary's value. A lower value cannot even
 *    be applied to the canary; an equal or higher one is applied and tested.
 *  - write-path settings (checkpoints, WAL, background writer, vacuum): applied to the canary so
 *    they are in force once it is promoted, but read-only traffic never exercises them, so the
 *    canary phase says nothing about them.
 *
 * @example
 *   canaryTestability("max_connections", 50, 100).verdict; // "standby_minimum"
 *   canaryTestability("work_mem", 64 * 1024 * 1024).verdict; // "testable"
 */
import type { KnobValue } from "../knobs";

/** Settings a hot standby needs at least as high as its primary's (PostgreSQL 15 docs, 27.4.10). */
export const STANDBY_MINIMUM_SETTINGS: readonly string[] = [
  "max_connections",
  "max_worker_processes",
  "max_wal_senders",
  "max_prepared_transactions",
  "max_locks_per_transaction",
];

const WRITE_PATH_EXACT: ReadonlySet<string> = new Set([
  "max_wal_size",
  "min_wal_size",
  "commit_delay",
  "commit_siblings",
  "maintenance_work_mem",
  "maintenance_io_concurrency",
  "backend_flush_after",
]);
const WRITE_PATH_PREFIXES: readonly string[] = ["checkpoint_", "wal_", "bgwriter_", "autovacuum", "vacuum_"];

export type Testability =
  | { name: string; verdict: "testable"; apply: true }
  | { name: string; verdict: "write_path"; apply: true; why: string }
  | { name: string; verdict: "standby_minimum"; apply: boolean; why: string };

export function isWritePathSetting(name: string): boolean {
  return WRITE_PATH_EXACT.has(name) || WRITE_PATH_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * @param proposed the new value in base units (as validateConfig returns it)
 * @param primaryValue the primary's current value in the same units, for standby minimums
 */
export function canaryTestability(name: string, proposed: KnobValue, primaryValue?: KnobValue): Testability {
  if (STANDBY_MINIMUM_SETTINGS.includes(name)) {
    if (primaryValue === undefined) {
      return { name, verdict: "standby_minimum", apply: false, why: `${name} must be at least the primary's value on a hot standby, and the primary's value is unknown` };
    }
    if (Number(proposed) < Number(primaryValue)) {
      return {
        name,
        verdict: "standby_minimum",
        apply: false,
        why: `${name} = ${String(proposed)} is below the primary's ${String(primaryValue)}; a hot standby refuses to run with it, so the canary cannot test it (not applied to the canary)`,
      };
    }
    return { name, verdict: "testable", apply: true };
  }
  if (isWritePathSetting(name)) {
    return { name, verdict: "write_path", apply: true, why: `${name} acts on the write path (checkpoints, WAL, background writer, vacuum), which a read-only canary never exercises; applied but not tested by the canary phase` };
  }
  return { name, verdict: "testable", apply: true };
}
