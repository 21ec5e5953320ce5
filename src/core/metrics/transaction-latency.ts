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
 *   transaction, plus the time outside statement execution (commit and WAL flush, parse/plan,
 *   the client's round trips between statements, waiting for a CPU), whose mean is
 *   c = L̄ − k·(mixture mean). Nothing the server counts measures the spread of that part, so
 *   it gets the maximum-entropy distribution for a positive time with a known mean: an
 *   exponential with mean c. Waits of this kind (group commit, run queues) are roughly
 *   memoryless, and a constant (zero spread) is the least plausible choice. Measured against
 *   pgbench's per-transaction log (bench/metrics.ts, TPC-B-like, fsync on, a loaded 2-core
 *   machine), a constant c gave p95 at 0.45–0.62× and p99 at 0.50–0.81× of pgbench's; the
 *   exponential gave p50 0.82–1.06×, p95 0.90–1.19×, p99 0.77–1.11× per 10 s window over
 *   three runs (18 windows). Where
 *   the outside time is really steady (one client, fsync-bound commits) the exponential
 *   overstates the tail, the safer error for a p99 gate.
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
import { createRng } from "../random";

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
  const outside = known ? Math.max(0, meanTransactionMs - statementMean) : 0;
  const mean = known ? meanTransactionMs : statementMean;
  const basis: LatencyBasis = known ? "transaction" : "statements_only";
  const q = Math.ceil(k) > LARGE_K ? quantilesByMoments(mixture, k, outside) : quantilesByMonteCarlo(mixture, k, outside);
  return { mean, ...q, basis };
}

interface Quantiles {
  p50: number;
  p95: number;
  p99: number;
}

/** Quantiles of c·Exp(1) + Σ_{i≤K} X_i, X_i from the mixture, by simulation. */
function quantilesByMonteCarlo(mixture: Mixture, k: number, outsideMean: number): Quantiles {
  const rng = createRng(LATENCY_SEED);
  const n = mixture.components.length;
  const mu = Float64Array.from(mixture.components, (c) => c.dist.mu);
  const sigma = Float64Array.from(mixture.components, (c) => c.dist.sigma);
  const alias = aliasTable(mixture.components.map((c) => c.weight));
  const whole = Math.floor(k);
  const fraction = k - whole;
  const draws = new Float64Array(TRANSACTION_DRAWS);
  for (let i = 0; i < TRANSACTION_DRAWS; i++) {
    const statements = whole + (rng.uniform() < fraction ? 1 : 0);
    let t = outsideMean > 0 ? -Math.log(1 - rng.uniform()) * outsideMean : 0;
    for (let s = 0; s < statements; s++) {
      const u = rng.uniform() * n;
      const slot = Math.min(n - 1, Math.floor(u));
      const j = u - slot < alias.probability[slot]! ? slot : alias.other[slot]!;
      t += sigma[j] === 0 ? Math.exp(mu[j]!) : Math.exp(mu[j]! + sigma[j]! * rng.normal());
    }
    draws[i] = t;
  }
  draws.sort();
  return { p50: rank(draws, 0.5), p95: rank(draws, 0.95), p99: rank(draws, 0.99) };
}

/** Walker/Vose alias table: O(1) draws from a discrete distribution. */
function aliasTable(weights: readonly number[]): { probability: Float64Array; other: Int32Array } {
  const n = weights.length;
  const total = weights.reduce((a, b) => a + b, 0);
  const scaled = weights.map((w) => (w * n) / total);
  const probability = new Float64Array(n).fill(1);
  const other = Int32Array.from({ length: n }, (_, i) => i);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!;
    const l = large.pop()!;
    probability[s] = scaled[s]!;
    other[s] = l;
    scaled[l] = scaled[l]! + scaled[s]! - 1;
    (scaled[l]! < 1 ? small : large).push(l);
  }
  return { probability, other };
}

/** The same sum as a lognormal with its mean and variance (k large: close to normal anyway). */
function quantilesByMoments(mixture: Mixture, k: number, outsideMean: number): Quantiles {
  let secondMoment = 0;
  for (const c of mixture.components) secondMoment += c.weight * Math.exp(2 * c.dist.mu + 2 * c.dist.sigma * c.dist.sigma);
  const variance = Math.max(0, secondMoment - mixture.mean * mixture.mean);
  const d = lognormalFromMoments(outsideMean + k * mixture.mean, Math.sqrt(k * variance + outsideMean * outsideMean));
  return { p50: lognormalQuantile(d, 0), p95: lognormalQuantile(d, normalQuantile(0.95)), p99: lognormalQuantile(d, normalQuantile(0.99)) };
}

/** Nearest-rank quantile of sorted values. */
function rank(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
