/**
 * Analysis: detection + the Durable Object's rollout state + the decision rules, composed purely,
 * and grouped for /api/analysis. See README.md in this folder.
 */
export { analyze, type Analysis, type AnalyzeOptions } from "./analyze";
export { decisionOf, type DecisionView, type Blocked } from "./decision";
export { analysisView, statementsNotice, type AnalysisView, type HistoryMeta, type ViewOptions } from "./view";
export { rolloutFacts, rolloutActive, baselineValidFrom, epochSeconds, NO_ROLLOUT, RESTING_ROLLOUT_STATES, type RolloutInput } from "./rollout";
