/**
 * Metrics, the pure part: the raw sample format, derive(previous, current) → snapshot, and the
 * statistics behind it (window moments, latency mixture, per-transaction latency). No I/O: the
 * runner collects samples (runner/metrics/collect.ts), the Worker stores them (src/store/samples.ts).
 */
export * from "./sample";
export * from "./snapshot";
export { derive, MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS, type DeriveOptions } from "./derive";
export { windowBetween, mergeMoments, fromCumulative, meanOf, stddevOf, type CumulativeMoments, type WindowMoments } from "./moments";
export { buildMixture, mixtureCdf, mixtureQuantile, lognormalFromMoments, normalCdf, normalQuantile, erfc, type Mixture } from "./distribution";
export { estimateTransactionLatency, TRANSACTION_DRAWS, LARGE_K, type LatencyEstimate, type LatencyBasis } from "./transaction-latency";
