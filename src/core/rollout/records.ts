/**
 * What a run leaves in pg2une's database, computed from its state (pure; the Durable Object
 * writes it): the optimization_runs row, the measured observation for the optimizer
 * (score_type "deployment") and the managed_indexes rows of the index step.
 */
import { meanInterval } from "./statistics";
import { configAfter } from "./knob-plan";
import { valuesOf, type Metric, type SubWindow } from "./series";
import type { RunState } from "./run-state";
import { stepKey } from "./steps";

export interface RunRow {
  id: string;
  target: string;
  action: RunState["action"];
  mode: RunState["mode"];
  trigger: RunState["trigger"];
  state: string;
  step: string | null;
  workloadClass: string | null;
  objectiveSource: string | null;
  proposedConfig: Record<string, unknown> | null;
  previousConfig: Record<string, unknown> | null;
  baselineMetrics: Record<string, unknown> | null;
  resultMetrics: Record<string, unknown> | null;
  improvementPct: number | null;
  outcome: "promoted" | "rolled_back" | "failed" | "kept" | "no_change" | null;
  reason: string | null;
  details: Record<string, unknown>;
  startedAt: Date;
  finishedAt: Date | null;
}

function describeWindows(windows: readonly SubWindow[]): Record<string, unknown> {
  const metric = (m: Metric) => {
    const v = valuesOf(windows, m);
    return v.length ? meanInterval(v) : null;
  };
  return { samples: windows.length, tps: metric("tps"), qps: metric("qps"), latency_p99: metric("latencyP99"), statement_latency_p99: metric("statementP99") };
}

export function runRowOf(state: RunState): RunRow {
  const stepName = state.step.kind === "done" ? null : `${state.rollback ? "rollback:" : ""}${stepKey(state.step)}`;
  const proposal = state.proposal;
  const objectiveSource = proposal ? (proposal.objective === "none" ? (proposal.proposalSource ?? "none") : proposal.objective) : null;
  const previousConfig = state.plan ? Object.fromEntries([...state.plan.apply, ...state.plan.canaryOnly].map((k) => [k.name, k.from])) : null;
  const proposedConfig = proposal
    ? { proposed: proposal.rendered, applied: state.plan ? Object.fromEntries(state.plan.apply.map((k) => [k.name, k.value])) : {}, canary_only: state.plan?.canaryOnly.map((k) => k.name) ?? [] }
    : null;
  const summary = state.result?.summary ?? null;
  return {
    id: state.runId,
    target: state.target.name,
    action: state.action,
    mode: state.mode,
    trigger: state.trigger,
    state: state.phase,
    step: stepName,
    workloadClass: state.workloadClass,
    objectiveSource,
    proposedConfig,
    previousConfig,
    baselineMetrics: state.baseline ? { source: state.baselineSource, ...describeWindows(state.baseline) } : null,
    resultMetrics: state.result
      ? {
          ...describeWindows(state.result.windows),
          comparison: summary!.comparison,
          throughput_metric: summary!.throughput,
          tps_change_pct: summary!.tps.changePct,
          tps_change_interval: summary!.tps.changeInterval,
          latency_p99_change_pct: summary!.latencyP99.changePct,
          latency_p99_change_interval: summary!.latencyP99.changeInterval,
          improvement_interval: summary!.improvementInterval,
          claim: summary!.claim,
          statement: summary!.statement,
        }
      : null,
    improvementPct: summary?.improvementPct ?? null,
    outcome: state.outcome,
    reason: state.reason,
    details: {
      cause: state.cause ?? null,
      notes: state.notes,
      workload_class_source: state.workloadClassSource,
      proposal,
      plan: state.plan,
      applied: state.applied,
      gates: state.gates,
      canary: state.mode === "canary" ? state.canary : null,
      indexes: state.indexes,
      rollback: state.rollback,
      rollback_pending: state.rollback !== null && state.due !== null,
      timings: state.timings,
      thresholds: state.thresholds,
    },
    startedAt: new Date(state.createdAt),
    finishedAt: state.finishedAt !== null ? new Date(state.finishedAt) : null,
  };
}

export interface ObservationRow {
  target: string;
  runId: string;
  workloadClass: string;
  config: Record<string, number | boolean | string>;
  score: number;
  scoreType: "deployment";
  tps: number | null;
  latencyP99: number | null;
  baselineTps: number | null;
  baselineLatencyP99: number | null;
}

/**
 * The measured result of a configuration that was really in effect (kept, promoted, or rolled
 * back after its window was measured: a bad configuration is worth remembering too). None when
 * nothing was measured: a canary rolled back mid-shift compared nodes, not the whole system.
 */
export function observationOf(state: RunState): ObservationRow | null {
  const summary = state.result?.summary;
  if (!summary || summary.improvementPct === null || !state.plan || !state.settings || !state.workloadClass) return null;
  return {
    target: state.target.name,
    runId: state.runId,
    workloadClass: state.workloadClass,
    config: configAfter(state.settings, state.plan.apply),
    score: summary.improvementPct,
    scoreType: "deployment",
    // Short samples judge throughput by qps (throughputMetricFor): not a tps, so not stored as one.
    tps: summary.throughput === "tps" ? (summary.tps.result?.mean ?? null) : null,
    latencyP99: summary.latencyP99.result?.mean ?? null,
    baselineTps: summary.throughput === "tps" ? (summary.tps.baseline?.mean ?? null) : null,
    baselineLatencyP99: summary.latencyP99.baseline?.mean ?? null,
  };
}

export interface IndexRow {
  target: string;
  runId: string;
  indexName: string;
  tableName: string;
  columns: string[];
  ddl: string;
  status: "created" | "kept" | "dropped" | "failed";
  measured: Record<string, unknown>;
  createdAt: Date | null;
  droppedAt: Date | null;
}

export function indexRowsOf(state: RunState): IndexRow[] {
  return (state.indexes?.records ?? []).map((r) => ({
    target: state.target.name,
    runId: state.runId,
    indexName: r.indexName,
    tableName: `${r.schema}.${r.tableName}`,
    columns: r.columns,
    ddl: r.ddl,
    status: r.status,
    measured: r.measured,
    createdAt: r.createdAt ? new Date(r.createdAt) : null,
    droppedAt: r.droppedAt ? new Date(r.droppedAt) : r.status === "dropped" || r.status === "failed" ? new Date(state.finishedAt ?? state.createdAt) : null,
  }));
}
