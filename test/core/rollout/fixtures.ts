/**
 * Inputs for the rollout machine tests: pg_settings rows as PostgreSQL 15 reports them, a node
 * that accumulates counters like a server under a steady load, and the runner's answers.
 */
import type { KnobProposal } from "../../../src/core/optimize/tune-knobs";
import type { RawSample } from "../../../src/core/metrics";
import { advance, effectOf, stepKey, type RunInput, type RunState, type StepOutput, type Transition } from "../../../src/core/rollout";
import { iso, sample, statement } from "../../support/metrics-fixtures";

const row = (name: string, setting: string, unit: string | null, vartype: "integer" | "real" | "bool", context: string, min: string | null, max: string | null) => ({
  name,
  setting,
  unit,
  vartype,
  context,
  min_val: min,
  max_val: max,
  enumvals: null,
  boot_val: setting,
  reset_val: setting,
  pending_restart: false,
});

/** PostgreSQL 15's own rows for a few catalog knobs (values at their defaults). */
export const SETTINGS = [
  { ...row("work_mem", "4096", "kB", "integer", "user", "64", "2147483647"), display: "4MB" },
  { ...row("random_page_cost", "4", null, "real", "user", "0", "1.79769e+308"), display: "4" },
  { ...row("effective_cache_size", "524288", "8kB", "integer", "user", "1", "2147483647"), display: "4GB" },
  { ...row("shared_buffers", "16384", "8kB", "integer", "postmaster", "16", "1073741823"), display: "128MB" },
  { ...row("max_connections", "100", null, "integer", "postmaster", "1", "262143"), display: "100" },
  { ...row("jit", "on", null, "bool", "user", null, null), display: "on" },
];

export const READ_CONFIG_RESULT = { settings: SETTINGS, unknownToServer: [], serverVersion: "15.8", pendingRestart: false };

export const MB = 1024 * 1024;

export function proposal(config: Record<string, number | boolean>, rendered: Record<string, string>): KnobProposal {
  return {
    config,
    rendered,
    source: "warm_start",
    warmStartSource: "pgtune",
    objective: "none",
    observationsUsed: 0,
    measuredObservations: 0,
    ignoredSurrogateObservations: 0,
    memory: { ok: true, estimateMb: 500, limitMb: 3686, breakdown: {} } as unknown as KnobProposal["memory"],
  };
}

/**
 * A server under a steady load: tps transactions per second, and per query `rate` calls per
 * second at `meanMs` each. Latencies can be changed between samples (a config taking effect).
 */
export class SimNode {
  private t = 0;
  private xacts = 0;
  private readonly calls = new Map<string, { calls: number; total: number }>();

  constructor(
    public tps: number,
    public queries: Record<string, { rate: number; meanMs: number }>,
    private readonly identity: Partial<RawSample["server"]> = {},
  ) {}

  /** A closed loop slowed or sped up: transactions and every query's rate by the same factor. */
  scale(factor: number): void {
    this.tps *= factor;
    for (const q of Object.values(this.queries)) q.rate *= factor;
  }

  /** Advances the clock to `at` (ms) and returns the cumulative sample there. */
  sampleAt(at: number): RawSample {
    const dt = this.t === 0 ? 0 : (at - this.t) / 1000;
    this.t = at;
    this.xacts += this.tps * dt;
    for (const [id, q] of Object.entries(this.queries)) {
      const c = this.calls.get(id) ?? { calls: 0, total: 0 };
      const n = q.rate * dt;
      c.calls += n;
      c.total += n * q.meanMs;
      this.calls.set(id, c);
    }
    const top = [...this.calls.entries()].map(([id, c]) =>
      statement(id, { calls: Math.round(c.calls), total_exec_time_ms: c.total, stddev_exec_time_ms: (c.total / Math.max(1, c.calls)) * 0.3 }),
    );
    return sample({ at, database: { xact_commit: Math.round(this.xacts), xact_rollback: 0, session_time: this.xacts * 2, active_time: this.xacts }, top, server: this.identity });
  }
}

export const ids = { primary: "7350000000000000001", canary: "7350000000000000001" };

/** Feeds the current step a successful output. */
export function ok(t: Transition, output: StepOutput, now: number): Transition {
  return advance(t.state, { kind: "done", stepKey: stepKey(t.state.step), attempt: t.state.attempt, output }, now);
}

export function runnerOk(t: Transition, now: number, ...results: unknown[]): Transition {
  return ok(t, { kind: "runner", results }, now);
}

export function fail(t: Transition, kind: "unreachable" | "refused" | "invalid_answer" | "not_implemented" | "internal", message: string, now: number): Transition {
  return advance(t.state, { kind: "failed", stepKey: stepKey(t.state.step), attempt: t.state.attempt, error: { kind, message } }, now);
}

export function input(state: RunState, kind: RunInput["kind"]): RunInput {
  return { kind, stepKey: stepKey(state.step), attempt: state.attempt } as RunInput;
}

/** Answers sample steps from the nodes until the window is over; returns the transition after it. */
export function runWindow(t: Transition, nodes: { primary: SimNode; canary?: SimNode }): Transition {
  let cur = t;
  while (cur.state.step.kind === "sample") {
    const at = cur.due!;
    const effect = effectOf(cur.state)!;
    if (effect.kind !== "runner") throw new Error("sample effect is not a runner effect");
    const results = effect.commands.map((c) => ((c.payload as { node: string }).node === "canary" ? nodes.canary! : nodes.primary).sampleAt(at));
    cur = runnerOk(cur, at, ...results);
  }
  return cur;
}

export { iso };
