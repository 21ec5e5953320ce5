/**
 * Detection and analysis core: pure functions from a metrics history to Datalog facts.
 * See README.md in this folder for the detectors, their thresholds and the facts they emit.
 */
export { DEFAULT_DETECT_CONFIG, type DetectConfig } from "./config";
export { detect, statementsAvailability, type DetectionReport, type ChangePointReport, type UslReport, DEGRADATION } from "./detect";
export { parseDetectionInput, detectionInputSchema, type DetectionInput } from "./input";
export {
  systemSnapshotSchema,
  queryWindowSchema,
  statementsAvailabilitySchema,
  type StatementsAvailability,
  type SystemSnapshot,
  type QueryWindow,
  type MetricName,
} from "./history";
export { type CusumResult, type CusumAlarm } from "./cusum";
export { type QueryRegression } from "./query-regression";
export { type WorkloadAnalysis } from "./workload-class";
export { type SeasonalExpectation } from "./seasonal";
export { type Fact, type FactMap, toFactMap, formatFact, factSchema } from "./facts";
export { confidenceScore, type Confidence } from "./confidence";
export { detectionWindowOf, detectionInputOf, type DetectionWindow } from "./from-metrics";
