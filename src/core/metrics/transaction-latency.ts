/**
 * Per-transaction latency, estimated from server-side counters.
 *
 * What clients wait for is a transaction (for autocommit, one statement plus its implicit
 * commit), not a statement: pgbench's TPC-B transaction is 7 statements, and its dominant cost,
 * the commit's WAL flush, runs *after* pg_stat_statements stops its clock. So the statement
 * mixture alone says little about the latency clients see. The estimate here combines:
 *
 * - the mean: L̄ = Δ(active_time + idle_in_transaction_time) / Δ(xact_commit + xact_rollback)
 *   from pg_stat_database (PostgreSQL 14+). That is the time sessions spent inside
 *   transactions, per transaction: statements, parse/plan, commit and WAL flush, lock waits,
 *   and the client's round trips *between* the statements of a transaction. It excludes the
 *   client's own time and the network before the first and after the last statement, which the
 *   server cannot see.
 * - the shape: a transaction is modelled as K statement executions drawn independently from the
 *   calls-weighted statement mixture (distribution.ts), with E[K] = k = top-level calls per
 *   transaction, plus a constant c = L̄ − k·(mixture mean) for everything outside statement
 *   execution. c is a constant because no counter measures its spread, so tails come from
 *   statement variability only; when commit waits vary a lot (fsync under group commit) the
 *   upper percentiles are underestimated.
 * - the sum of K draws has no closed form for a mixture, so its quantiles come from Monte Carlo
 *   with a fixed-seed PRNG (deterministic: the same window always gives the same numbers). With
 *   TRANSACTION_DRAWS draws the p99's relative standard error is about 1–2 % for typical spreads.
 *   Past LARGE_K statements per transaction the sum is close to normal (central limit), and a
 *   moment-matched lognormal is used instead.
 *
 * Without session statistics (PostgreSQL 13) c is unknown and taken as 0: the estimate is then
 * the statements' execution time only (basis "statements_only") and runs low.
 */
import { lognormalFromMoments, lognormalQuantile, normalQuantile, type Mixture } from "./distribution";
import { mulberry32, normalDraws } from "./random";

/** Monte Carlo transactions per estimate. */
export const TRANSACTION_DRAWS = 20_000;
/** Above this many statements per transaction the sum is taken as (log)normal instead of simulated. */
export const LARGE_K = 64;
/** Fixed seed: estimates are a pure function of the window. */
export const LATENCY_SEED = 0x5eed_2024;

export type LatencyBasis = "transaction" | "statements_only";

export interface LatencyEstimate {
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  basis: LatencyBasis;
}

export interface TransactionLatencyInput {
  /** The window's top-level statement mixture; undefined without pg_stat_statements. */
  mixture: Mixture | undefined;
  /** Top-level statement calls per transaction in the window. */
  statementsPerTransaction: number | null;
  /** L̄ from session statistics (ms); null before PostgreSQL 14 or across a stats reset. */
  meanTransactionMs: number | null;
}

export function estimateTransactionLatency(input: TransactionLatencyInput): LatencyEstimate | null {
  const { mixture, meanTransactionMs } = input;
  if (!mixture) return null;
  const k = Math.max(1, input.statementsPerTransaction ?? 1);
  const statementMean = k * mixture.mean;
  const known = meanTransactionMs !== null && Number.isFinite(meanTransactionMs) && meanTransactionMs > 0;
  const overhead = known ? Math.max(0, meanTransactionMs - statementMean) : 0;
  const mean = known ? meanTransactionMs : statementMean;
  const basis: LatencyBasis = known ? "transaction" : "statements_only";
  const q = Math.ceil(k) > LARGE_K ? sumQuantilesByMoments(mixture, k) : sumQuantilesByMonteCarlo(mixture, k);
  return { mean, p50: overhead + q.p50, p95: overhead + q.p95, p99: overhead + q.p99, basis };
}

interface Quantiles {
  p50: number;
  p95: number;
  p99: number;
}

function sumQuantilesByMonteCarlo(mixture: Mixture, k: number): Quantiles {
  const rng = mulberry32(LATENCY_SEED);
  const gauss = normalDraws(rng);
  const cumulative: number[] = [];
  let acc = 0;
  for (const c of mixture.components) cumulative.push((acc += c.weight));
  const whole = Math.floor(k);
  const fraction = k - whole;
  const draws = new Float64Array(TRANSACTION_DRAWS);
  for (let i = 0; i < TRANSACTION_DRAWS; i++) {
    const statements = whole + (rng.next() < fraction ? 1 : 0);
    let t = 0;
    for (let s = 0; s < statements; s++) {
      const c = mixture.components[pick(cumulative, rng.next() * acc)]!;
      t += c.dist.sigma === 0 ? Math.exp(c.dist.mu) : Math.exp(c.dist.mu + c.dist.sigma * gauss());
    }
    draws[i] = t;
  }
  draws.sort();
  return { p50: rank(draws, 0.5), p95: rank(draws, 0.95), p99: rank(draws, 0.99) };
}

/** The sum of k independent mixture draws as a lognormal with the sum's mean and variance. */
function sumQuantilesByMoments(mixture: Mixture, k: number): Quantiles {
  let secondMoment = 0;
  for (const c of mixture.components) secondMoment += c.weight * Math.exp(2 * c.dist.mu + 2 * c.dist.sigma * c.dist.sigma);
  const variance = Math.max(0, secondMoment - mixture.mean * mixture.mean);
  const d = lognormalFromMoments(k * mixture.mean, Math.sqrt(k * variance));
  return { p50: lognormalQuantile(d, 0), p95: lognormalQuantile(d, normalQuantile(0.95)), p99: lognormalQuantile(d, normalQuantile(0.99)) };
}

/** Index of the first cumulative weight ≥ u. */
function pick(cumulative: readonly number[], u: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Nearest-rank quantile of sorted values. */
function rank(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
