/**
 * A derived snapshot (src/core/metrics: derive(previous, current)) as detection input: the
 * snapshot without its per-query rows is exactly an /api/metrics/history item, and each query
 * row becomes a per-query window stamped with the snapshot's time. The runner-side tools (the
 * detection benchmark, tests on real clusters) use this; the Worker reads the same fields back
 * from system_snapshots and workload_snapshots.
 *
 * @example
 *   const { snapshot, queries } = detectionWindowOf(derive(previousSample, sample));
 */
import { metricsItemOf, type Snapshot } from "../metrics/snapshot";
import type { QueryWindow, SystemSnapshot } from "./history";

export interface DetectionWindow {
  snapshot: SystemSnapshot;
  queries: QueryWindow[];
}

export function detectionWindowOf(derived: Snapshot): DetectionWindow {
  return {
    snapshot: metricsItemOf(derived),
    queries: derived.queries.map((q) => ({ ...q, snapshot_time: derived.snapshot_time })),
  };
}

/** Windows in time order → the detector's input (snapshots plus all their query windows). */
export function detectionInputOf(windows: readonly DetectionWindow[], baselineValidFrom?: string) {
  return {
    snapshots: windows.map((w) => w.snapshot),
    queries: windows.flatMap((w) => w.queries),
    baseline_valid_from: baselineValidFrom,
  };
}
