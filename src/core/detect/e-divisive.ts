/**
 * E-Divisive change points (Matteson & James 2014, "A Nonparametric Approach for Multiple Change
 * Point Analysis of Multivariate Data", JASA 109(505); R package ecp): hierarchical bisection by
 * the energy statistic, each split kept only if a permutation test finds it significant.
 *
 * For a cluster Z[s, e) and a split τ with right end κ (s < τ < κ ≤ e), X = Z[s, τ), Y = Z[τ, κ):
 *
 *   Ê = 2/(nm) Σ|X_i − Y_j|^α − C(n,2)⁻¹ Σ_{i<k}|X_i − X_k|^α − C(m,2)⁻¹ Σ_{j<k}|Y_j − Y_k|^α
 *   Q̂ = nm/(n+m) · Ê
 *
 * The candidate maximizes Q̂ over τ and κ (the κ search is what lets a short segment between two
 * changes stand out; see Apache Otava's docs/MATH.md). We compute all Q̂(τ, κ) of a cluster in
 * O(n²) with prefix sums of within-block distance sums, W(a, b) = Σ_{a≤i<j<b} D_ij:
 * between(τ, κ) = W(s, κ) − W(s, τ) − W(τ, κ), and W(τ, κ) is updated row by row as τ descends.
 *
 * Significance: as ecp, the observations are permuted within every current cluster, the best Q̂
 * over all clusters is recomputed, and p = (#{Q̂_perm ≥ Q̂} + 1)/(R + 1). Permutations stop early
 * once the split can no longer be significant. The RNG is injected, so results replay exactly.
 * (Hunter/Otava replace the permutation test by Student's t on the two sides, trading calibration
 * for speed; our series are short, so the permutation test is affordable.)
 */
import type { Rng } from "../random";
import { mean, stddev } from "./robust";

export interface EDivisiveOptions {
  /** Significance level of each sequential permutation test. */
  significance: number;
  /** Maximum permutations per test (ecp's R). */
  permutations: number;
  /** Minimum observations on each side of a split (ecp's min.size; at least 2). */
  minSize: number;
  /** Distance exponent α in (0, 2]: α < 2 sees any change in distribution, α = 2 only the mean. */
  alpha: number;
}

export interface EnergyCandidate {
  /** First index of the right segment: the change point. */
  tau: number;
  /** Exclusive end of the right segment used for the statistic. */
  kappa: number;
  qhat: number;
}

export interface ChangePoint {
  /** Position in the analysed values: the first value after the change. */
  index: number;
  qhat: number;
  pValue: number;
  permutations: number;
  meanBefore: number;
  meanAfter: number;
  stddevBefore: number;
  stddevAfter: number;
  /** Otava's magnitude: max(|after/before − 1|, |before/after − 1|). */
  magnitude: number;
  /** (after − before) / |before|, signed. */
  relativeChange: number;
}

/**
 * Scratch space reused across calls: a permutation test calls bestSplit hundreds of times, and a
 * fresh n² array each time (320 KB at n = 200) spends more time in the allocator and GC than in
 * the arithmetic. Single-threaded JS, no re-entrancy: the buffers never escape a call.
 */
let scratchDistances = new Float64Array(0);
let scratchPrefix = new Float64Array(0);
let scratchRight = new Float64Array(0);

/**
 * The best split of values[start, end), or null when the cluster is too short
 * (fewer than 2·minSize points).
 */
export function bestSplit(values: ArrayLike<number>, start: number, end: number, minSize: number, alpha: number): EnergyCandidate | null {
  const n = end - start;
  if (minSize < 2) throw new RangeError("minSize must be at least 2 (a one-point side has no within-distance)");
  if (n < 2 * minSize) return null;
  // Pairwise distances once (n² doubles: 320 KB for n = 200), reused by both passes below.
  if (scratchDistances.length < n * n) scratchDistances = new Float64Array(n * n);
  if (scratchPrefix.length < n + 1) {
    scratchPrefix = new Float64Array(n + 1);
    scratchRight = new Float64Array(n + 1);
  }
  const d = scratchDistances;
  for (let i = 0; i < n; i++) {
    const xi = values[start + i]!;
    for (let j = i + 1; j < n; j++) {
      const diff = Math.abs(xi - values[start + j]!);
      const dij = alpha === 1 ? diff : diff ** alpha;
      d[i * n + j] = dij;
      d[j * n + i] = dij;
    }
  }

  // wFromStart[b] = W(0, b)
  const wFromStart = scratchPrefix;
  wFromStart[0] = 0;
  wFromStart[1] = 0;
  for (let b = 1; b < n; b++) {
    let column = 0;
    const rowB = b * n;
    for (let i = 0; i < b; i++) column += d[rowB + i]!;
    wFromStart[b + 1] = wFromStart[b]! + column;
  }

  // wRight[κ] = W(τ, κ) for the current τ, built as τ descends.
  const wRight = scratchRight.fill(0, 0, n + 1);
  let best: EnergyCandidate | null = null;
  for (let tau = n - 1; tau >= 1; tau--) {
    let row = 0;
    const rowTau = tau * n;
    for (let kappa = tau + 2; kappa <= n; kappa++) {
      row += d[rowTau + kappa - 1]!;
      wRight[kappa]! += row;
    }
    if (tau < minSize) continue;
    const n1 = tau;
    const wLeft = wFromStart[tau]!;
    const leftWithin = wLeft / ((n1 * (n1 - 1)) / 2);
    for (let kappa = tau + minSize; kappa <= n; kappa++) {
      const n2 = kappa - tau;
      const wr = wRight[kappa]!;
      const between = wFromStart[kappa]! - wLeft - wr;
      const energy = (2 * between) / (n1 * n2) - leftWithin - wr / ((n2 * (n2 - 1)) / 2);
      const qhat = ((n1 * n2) / (n1 + n2)) * energy;
      if (best === null || qhat > best.qhat) best = { tau: start + tau, kappa: start + kappa, qhat };
    }
  }
  return best;
}

interface Cluster {
  start: number;
  end: number;
  candidate: EnergyCandidate | null;
}

function bestOverClusters(values: ArrayLike<number>, clusters: readonly Cluster[], options: EDivisiveOptions): number {
  let best = Number.NEGATIVE_INFINITY;
  for (const c of clusters) {
    const candidate = bestSplit(values, c.start, c.end, options.minSize, options.alpha);
    if (candidate && candidate.qhat > best) best = candidate.qhat;
  }
  return best;
}

/** Change points of `values`, sorted by index. Deterministic for a given RNG state. */
export function eDivisive(values: readonly number[], rng: Rng, options: EDivisiveOptions): ChangePoint[] {
  const clusters: Cluster[] = [{ start: 0, end: values.length, candidate: null }];
  clusters[0]!.candidate = bestSplit(values, 0, values.length, options.minSize, options.alpha);
  const found: Array<{ index: number; qhat: number; pValue: number; permutations: number }> = [];
  // Largest count of permuted Q̂ ≥ observed that still leaves p ≤ significance.
  const maxExceeding = Math.floor(options.significance * (options.permutations + 1)) - 1;
  const scratch = Float64Array.from(values);

  for (;;) {
    let chosen: Cluster | null = null;
    for (const c of clusters) {
      if (c.candidate && (chosen === null || c.candidate.qhat > chosen.candidate!.qhat)) chosen = c;
    }
    if (!chosen || !chosen.candidate || !(chosen.candidate.qhat > 0)) break;
    const observed = chosen.candidate.qhat;

    let exceeding = 0;
    let performed = 0;
    while (performed < options.permutations && exceeding <= maxExceeding) {
      scratch.set(values);
      for (const c of clusters) rng.shuffle(scratch, c.start, c.end);
      if (bestOverClusters(scratch, clusters, options) >= observed) exceeding++;
      performed++;
    }
    const pValue = (exceeding + 1) / (performed + 1);
    if (exceeding > maxExceeding || pValue > options.significance) break;

    const tau = chosen.candidate.tau;
    found.push({ index: tau, qhat: observed, pValue, permutations: performed });
    const left: Cluster = { start: chosen.start, end: tau, candidate: null };
    const right: Cluster = { start: tau, end: chosen.end, candidate: null };
    left.candidate = bestSplit(values, left.start, left.end, options.minSize, options.alpha);
    right.candidate = bestSplit(values, right.start, right.end, options.minSize, options.alpha);
    clusters.splice(clusters.indexOf(chosen), 1, left, right);
  }

  found.sort((a, b) => a.index - b.index);
  return found.map((cp, i) => {
    const from = i === 0 ? 0 : found[i - 1]!.index;
    const to = i === found.length - 1 ? values.length : found[i + 1]!.index;
    return { ...cp, ...sideStats(values.slice(from, cp.index), values.slice(cp.index, to)) };
  });
}

function sideStats(before: number[], after: number[]) {
  const meanBefore = mean(before);
  const meanAfter = mean(after);
  const forward = meanBefore === 0 ? 0 : meanAfter / meanBefore - 1;
  const backward = meanAfter === 0 ? 0 : meanBefore / meanAfter - 1;
  return {
    meanBefore,
    meanAfter,
    stddevBefore: stddev(before),
    stddevAfter: stddev(after),
    magnitude: Math.max(Math.abs(forward), Math.abs(backward)),
    relativeChange: meanBefore === 0 ? 0 : (meanAfter - meanBefore) / Math.abs(meanBefore),
  };
}
