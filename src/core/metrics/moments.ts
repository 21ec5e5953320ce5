/**
 * Window statistics of a statement from pg_stat_statements' cumulative moments.
 *
 * pg_stat_statements keeps, per entry, the number of calls n, the total execution time T = Σx and
 * the *population* standard deviation s (it stores Welford's sum of squared deviations
 * M2 = Σ(x − x̄)² and reports s = √(M2 / n)). Two samples give (n₀, T₀, s₀) and (n₁, T₁, s₁); the
 * calls in between are the window: n_w = n₁ − n₀, Σx over the window = T₁ − T₀.
 *
 * The window's spread follows from the parallel-variance identity (Chan et al.): splitting the
 * n₁ calls into the n₀ old ones and the n_w new ones,
 *
 *     M2₁ = M2₀ + M2_w + δ² · n₀ · n_w / n₁,    δ = x̄_w − x̄₀,  x̄₀ = T₀/n₀,  x̄_w = (T₁ − T₀)/n_w
 *
 * so M2_w = M2₁ − M2₀ − δ² n₀ n_w / n₁, with M2ᵢ = nᵢ sᵢ². This is algebraically the same as
 * "window Σx² = Q₁ − Q₀ with Qᵢ = nᵢ sᵢ² + Tᵢ²/nᵢ", but never forms the huge Tᵢ²/nᵢ terms, so it
 * loses far less precision when the history is long and the window short. Rounding can still
 * leave a tiny negative M2_w; it is clamped to 0.
 */

/** One pg_stat_statements entry's cumulative state. */
export interface CumulativeMoments {
  calls: number;
  totalMs: number;
  /** Population standard deviation over all calls (pg_stat_statements' stddev_exec_time). */
  stddevMs: number;
}

/** Execution-time statistics of the calls in one window. */
export interface WindowMoments {
  calls: number;
  sumMs: number;
  /** Σ (x − mean)² over the window's calls. */
  m2: number;
}

export function meanOf(w: WindowMoments): number | null {
  return w.calls > 0 ? w.sumMs / w.calls : null;
}

/** Population standard deviation of the window's calls. */
export function stddevOf(w: WindowMoments): number | null {
  return w.calls > 0 ? Math.sqrt(Math.max(0, w.m2 / w.calls)) : null;
}

/** The moments of all calls an entry ever counted (its "window" since it was created). */
export function fromCumulative(c: CumulativeMoments): WindowMoments {
  return { calls: c.calls, sumMs: c.totalMs, m2: c.calls * c.stddevMs * c.stddevMs };
}

/**
 * The window between two cumulative states of the same entry. Undefined when the counters went
 * backwards (the entry was reset or evicted and re-created): the caller decides what that means.
 */
export function windowBetween(previous: CumulativeMoments, current: CumulativeMoments): WindowMoments | undefined {
  const calls = current.calls - previous.calls;
  const sumMs = current.totalMs - previous.totalMs;
  if (calls < 0 || sumMs < -timeTolerance(current.totalMs)) return undefined;
  if (calls === 0) return { calls: 0, sumMs: 0, m2: 0 };
  if (previous.calls === 0) return fromCumulative(current);
  const m2Prev = previous.calls * previous.stddevMs * previous.stddevMs;
  const m2Cur = current.calls * current.stddevMs * current.stddevMs;
  const windowMean = Math.max(0, sumMs) / calls;
  const delta = windowMean - previous.totalMs / previous.calls;
  const m2 = m2Cur - m2Prev - (delta * delta * previous.calls * calls) / current.calls;
  return { calls, sumMs: Math.max(0, sumMs), m2: Math.max(0, m2) };
}

/** Combines the moments of disjoint sets of calls (e.g. one queryid run by two roles). */
export function mergeMoments(a: WindowMoments, b: WindowMoments): WindowMoments {
  if (a.calls === 0) return b;
  if (b.calls === 0) return a;
  const calls = a.calls + b.calls;
  const delta = b.sumMs / b.calls - a.sumMs / a.calls;
  return { calls, sumMs: a.sumMs + b.sumMs, m2: a.m2 + b.m2 + (delta * delta * a.calls * b.calls) / calls };
}

/** Floating-point slack for a total that should not decrease (a sum of doubles). */
function timeTolerance(total: number): number {
  return Math.abs(total) * 1e-12;
}
