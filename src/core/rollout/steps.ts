/**
 * The steps of a run and their names. A step's key, with the run id and the attempt, makes the
 * commandId of what it sends, so delivering the same step twice (after a crash, a lost answer)
 * sends the same commandIds and the runner's journal answers with the first result.
 */
export type RolloutPhase = "idle" | "capturing_baseline" | "optimizing" | "direct" | "canary" | "promoted" | "rolled_back" | "failed";
export const ROLLOUT_PHASES: readonly RolloutPhase[] = ["idle", "capturing_baseline", "optimizing", "direct", "canary", "promoted", "rolled_back", "failed"];

/** Why a window of samples is taken. */
export type WindowPurpose = "baseline" | "direct" | "canary" | "verify";

/** What a rollback resolves first: a mutating command whose outcome is unknown is re-sent with its commandId. */
export type ResolvableStep = "apply" | "switchover" | "create_index";

export type Step =
  | { kind: "read_config" }
  | { kind: "load_history" }
  | { kind: "sample"; purpose: WindowPurpose; index: number; count: number; pct: number | null }
  | { kind: "propose" }
  | { kind: "hypo_indexes" }
  | { kind: "create_index" }
  | { kind: "apply" }
  | { kind: "launch" }
  | { kind: "configure" }
  | { kind: "route"; pct: number }
  | { kind: "switchover" }
  // rollback
  | { kind: "resolve"; of: ResolvableStep }
  | { kind: "restore" }
  | { kind: "route_back" }
  | { kind: "teardown" }
  | { kind: "done" };

export type StepKind = Step["kind"];

const ROLLBACK_KINDS: ReadonlySet<StepKind> = new Set(["resolve", "restore", "route_back", "teardown"]);

export function isRollbackStep(step: Step): boolean {
  return ROLLBACK_KINDS.has(step.kind);
}

const pctKey = (pct: number) => String(pct).replace(".", "_");

/** A stable name for a step, e.g. "route-25", "sample-canary-25-3", "resolve-apply". */
export function stepKey(step: Step): string {
  switch (step.kind) {
    case "sample":
      return `sample-${step.purpose}${step.pct !== null ? `-${pctKey(step.pct)}` : ""}-${step.index}`;
    case "route":
      return `route-${pctKey(step.pct)}`;
    case "resolve":
      return `resolve-${step.of.replace("_", "-")}`;
    default:
      return step.kind.replace("_", "-");
  }
}

/** The commandId of one command of a step: `<runId>.<step>.<attempt>[.<part>]` (fits COMMAND_ID_PATTERN). */
export function commandIdFor(runId: string, key: string, attempt: number, part?: string): string {
  return `${runId}.${key}.${attempt}${part ? `.${part}` : ""}`;
}

/** The phase a forward step belongs to (rollback steps keep the phase they started in). */
export function phaseOfStep(step: Step): RolloutPhase | null {
  switch (step.kind) {
    case "read_config":
    case "load_history":
      return "capturing_baseline";
    case "sample":
      return step.purpose === "baseline" ? "capturing_baseline" : step.purpose === "direct" ? "direct" : "canary";
    case "propose":
    case "hypo_indexes":
      return "optimizing";
    case "create_index":
    case "apply":
      return "direct";
    case "launch":
    case "configure":
    case "route":
    case "switchover":
      return "canary";
    default:
      return null;
  }
}

/** A short human description for the timeline. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case "read_config":
      return "reading the current configuration";
    case "load_history":
      return "loading the last snapshots for the baseline";
    case "sample":
      return `${step.purpose} sample ${step.index + 1}/${step.count}${step.pct !== null ? ` at ${step.pct} %` : ""}`;
    case "propose":
      return "asking the optimizer for a configuration";
    case "hypo_indexes":
      return "costing index candidates with HypoPG";
    case "create_index":
      return "creating, measuring and keeping or dropping indexes";
    case "apply":
      return "applying reload-context settings (ALTER SYSTEM + reload)";
    case "launch":
      return "launching the canary";
    case "configure":
      return "configuring the canary";
    case "route":
      return `routing ${step.pct} % of read-only traffic to the canary`;
    case "switchover":
      return "switching over: the canary becomes the primary";
    case "resolve":
      return `learning the outcome of ${step.of} (re-sent with its commandId)`;
    case "restore":
      return "restoring the previous settings";
    case "route_back":
      return "routing all traffic back to the primary";
    case "teardown":
      return "tearing down the canary";
    case "done":
      return "done";
  }
}
