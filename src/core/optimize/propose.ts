/**
 * Ask/tell Bayesian optimization as one pure function: observations in, next point out.
 *
 *   1. warm-start points (e.g. the current config, a PGTune recommendation) not yet observed,
 *   2. then a Latin-hypercube initial design (the point farthest from everything observed),
 *   3. then a Gaussian process (Matérn 5/2: ARD + first-order additive term, MAP
 *      hyperparameters) and log expected improvement, maximized over random + local candidates
 *      inside a TuRBO trust region around the incumbent, refined by local search, plus
 *      candidates that move single coordinates anywhere in their range, to where their own
 *      additive effect's confidence bound is lowest (additive-step.ts); while the model sees
 *      no short-range interactions, every third model-guided step chooses among those alone.
 *      The region's side is replayed from the observations in the order given
 *      (trust-region.ts), so pass them oldest first.
 * A constraint (e.g. the memory guard) is applied to every candidate: an infeasible point is
 * never returned. Deterministic for a given seed.
 *
 * @example
 *   const space = buildSpace({ dimensions: [{ name: "x", type: "float", low: -5, high: 10 }] });
 *   const next = propose(space, [{ config: { x: 1 }, value: 3.2 }], { seed: 7, goal: "minimize" });
 *   next.config; // { x: … }
 */
import { incumbent, logExpectedImprovement } from "./acquisition";
import { additiveCandidates, additiveTargets } from "./additive-step";
import { fitGp, type FittedGp, type GpHyperparameters } from "./gp";
import { fitOutputTransform } from "./output-transform";
import { meanLogLengthScale, replayTrustRegion, trustRegionBox, type TrustRegionState } from "./trust-region";
import { createRng, type Rng } from "../random";
import { decode, encode, latinHypercube, numericCoordinates, samplePoint, sameConfig, snap, type Config, type Space } from "./space";

export interface Observation {
  config: Config;
  value: number;
}

export type Goal = "minimize" | "maximize";

export interface ProposeOptions {
  seed: number;
  /** Default "maximize" (the tuner's objective, improvement, is higher-is-better). */
  goal?: Goal;
  /** Points to evaluate first, in order, unless already observed (warm start). */
  warmStart?: Array<{ config: Config; source: string }>;
  /** Observations before the GP takes over; default INITIAL_DESIGN_SIZE(D). */
  initialDesignSize?: number;
  /** Hard constraint: a config for which this is false is never proposed. */
  feasible?: (config: Config) => boolean;
  /**
   * Maps a config to a nearby feasible one (e.g. lowers work_mem until the memory guard holds),
   * applied to every candidate before it is scored, so a narrow feasible region is still
   * searched well. The result must stay inside the space; `feasible` is still checked.
   */
  repair?: (config: Config) => Config;
  /** Random candidates scored per proposal. */
  randomCandidates?: number;
  /** Hyperparameters of a previous fit, used as an extra L-BFGS start. */
  previousHyperparameters?: GpHyperparameters;
  /** Overrides of PROPOSE_DEFAULTS, for benchmarks and ablations. */
  tuning?: Partial<ProposeTuning>;
}

export type ProposalSource = "warm_start" | "initial_design" | "bayesian";

export interface Proposal {
  config: Config;
  source: ProposalSource;
  /** For warm_start: which one (e.g. "pgtune", "current"). */
  warmStartSource?: string;
  /** For bayesian: the GP's view of the chosen point, in the objective's units. */
  prediction?: { mean: number; interval: [number, number]; logExpectedImprovement: number };
  hyperparameters?: GpHyperparameters;
  /** For bayesian: the trust region's side (unit-cube coordinates) replayed from the history. */
  trustRegion?: TrustRegionState;
  /**
   * For bayesian: "additive" when the point was chosen among the additive step's candidates
   * only (every `additiveStepEvery`-th model-guided step), else "trust_region" (the usual
   * search, whose pool also holds those candidates).
   */
  search?: "trust_region" | "additive";
  observationsUsed: number;
}

/** Defaults, each named so a benchmark or an operator can see what drives a proposal. */
export const PROPOSE_DEFAULTS = {
  /** Random candidates per proposal (uniform in the unit cube, clipped to the trust region). */
  randomCandidates: 1500,
  /**
   * Expected number of numeric coordinates a local move changes: each moves with probability
   * min(1, this/D), at least one (TuRBO's perturbation mask; all coordinates up to D = 20).
   */
  perturbedCoordinates: 20,
  /**
   * Maximize the acquisition only inside a TuRBO trust region around the incumbent
   * (trust-region.ts). Off, Levy-10 median best was 10.2 instead of 8.3, Hartmann-6 −3.30
   * instead of −3.32 (20 seeds each).
   */
  trustRegion: true,
  /** Observed points whose neighbourhoods are searched with local candidates. */
  localCentres: 5,
  localCandidatesPerCentre: 100,
  /** Standard deviation of local perturbations, in unit-cube coordinates. */
  localStep: 0.08,
  /** Best candidates refined by local search, and the steps each gets. */
  refineStarts: 4,
  refineSteps: 60,
  /**
   * Additive-step candidates per proposal (additive-step.ts) on top of the all-targets point and
   * the D one-coordinate points; 0 turns the additive step off.
   */
  additiveCandidates: 50,
  /**
   * Every this-many-th model-guided step chooses among the additive candidates alone (by
   * log-EI); 0 = never, they only compete in the pool. Levy-10, 160 seeds (sets 0–700, before
   * the gate below), median regret without the additive step 7.88; candidates in the pool only
   * 6.06 (Δ mean log regret −0.200 ± 0.091); also every third step alone 5.39 (−0.253 ± 0.077).
   */
  additiveStepEvery: 3,
  /**
   * The additive step only runs while the geometric mean of the ARD length scales is at least
   * this (unit-cube widths): the interactions the model has found are smooth across the cube.
   * When MAP finds short ARD length scales the objective has interactions a one-coordinate move
   * cannot see. Without this gate Hartmann-6 (160 seeds) reached its global optimum in 64 seeds
   * instead of 74 and its mean regret rose from 0.200 to 0.303; with it, 77 and 0.184, while
   * Levy-10 keeps the gain (320 seeds: 5.69 against 5.43 ungated, 7.73 without the step).
   */
  additiveStepMinArdLengthScale: 2.5,
  /** Random restarts of the hyperparameter fit, on top of the fixed starts. */
  hyperparameterRestarts: 1,
  /** Feasible random points compared when no Latin-hypercube point is usable. */
  designFallbackCandidates: 16,
  /** Rejection-sampling budget when the constraint makes random points rare. */
  feasibleSampleAttempts: 20_000,
} as const;

/** Initial design size for D dimensions: D + 1, at least 5, at most 10. */
export function initialDesignSize(dimensions: number): number {
  return Math.min(10, Math.max(5, dimensions + 1));
}

export class NoFeasiblePointError extends Error {
  override name = "NoFeasiblePointError";
}

export function propose(space: Space, observations: readonly Observation[], options: ProposeOptions): Proposal {
  const rng = createRng(options.seed);
  const repair = options.repair;
  const settle = (x: Float64Array): Float64Array => (repair ? encode(space, repair(decode(space, x))) : x);
  const feasible = options.feasible ?? (() => true);
  const goal = options.goal ?? "maximize";
  observations.forEach((o, i) => {
    if (!Number.isFinite(o.value)) throw new RangeError(`observations[${i}].value must be a finite number`);
    encode(space, o.config); // throws a clear error for a config that does not fit the space
  });
  const observedConfigs = observations.map((o) => o.config);
  const isObserved = (c: Config) => observedConfigs.some((o) => sameConfig(space, o, c));

  for (const w of options.warmStart ?? []) {
    const config = decode(space, settle(encode(space, w.config)));
    if (!isObserved(config) && !isObserved(w.config) && feasible(config)) {
      return { config, source: "warm_start", warmStartSource: w.source, observationsUsed: observations.length };
    }
  }

  const design = options.initialDesignSize ?? initialDesignSize(space.dimensions.length);
  if (observations.length < design) {
    return { config: initialDesignPoint(space, observations, design, rng, feasible, settle), source: "initial_design", observationsUsed: observations.length };
  }

  const tuning: Tuning = { ...PROPOSE_DEFAULTS, ...(options.randomCandidates !== undefined ? { randomCandidates: options.randomCandidates } : {}), ...options.tuning };
  const sign = goal === "minimize" ? 1 : -1;
  const points = observations.map((o) => encode(space, o.config));
  const transform = fitOutputTransform(observations.map((o) => sign * o.value));
  const values = observations.map((o) => transform.forward(sign * o.value));
  const gp = fitGp(points, values, {
    rng: createRng(rng.int(2 ** 31)),
    randomRestarts: tuning.hyperparameterRestarts,
    ...(options.previousHyperparameters ? { initial: options.previousHyperparameters } : {}),
  });
  const best = incumbent(gp);
  const chosen = maximizeAcquisition({ space, gp, best, points, values, rng, feasible, isObserved, settle, tuning, designSize: design });
  const prediction = gp.predict(chosen.x);
  return {
    config: decode(space, chosen.x),
    source: "bayesian",
    prediction: {
      mean: sign * transform.inverse(prediction.mean),
      interval: [transform.inverse(prediction.mean - 2 * Math.sqrt(prediction.variance)), transform.inverse(prediction.mean + 2 * Math.sqrt(prediction.variance))]
        .map((v) => sign * v)
        .sort((a, b) => a - b) as [number, number],
      logExpectedImprovement: chosen.score,
    },
    hyperparameters: gp.hyperparameters,
    ...(chosen.trustRegion ? { trustRegion: chosen.trustRegion } : {}),
    search: chosen.search,
    observationsUsed: observations.length,
  };
}

function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
}

/** The design point farthest (maximin) from all observations, so a re-run continues the same LHS. */
function initialDesignPoint(
  space: Space,
  observations: readonly Observation[],
  size: number,
  rng: Rng,
  feasible: (c: Config) => boolean,
  settle: (x: Float64Array) => Float64Array,
): Config {
  const observed = observations.map((o) => encode(space, o.config));
  const candidates = latinHypercube(space, size, rng)
    .map(settle)
    .filter((x) => feasible(decode(space, x)));
  let bestPoint: Float64Array | null = null;
  let bestDistance = -1;
  for (const x of candidates) {
    const d = observed.length === 0 ? Infinity : Math.min(...observed.map((o) => squaredDistance(o, x)));
    if (d > bestDistance && d > 1e-12) {
      bestDistance = d;
      bestPoint = x;
    }
  }
  if (bestPoint && (observed.length === 0 || bestDistance > 0)) return decode(space, bestPoint);
  // The LHS points are all infeasible or taken: fall back to the feasible random point farthest away.
  let fallback: Float64Array | null = null;
  let fallbackDistance = -1;
  for (let attempt = 0, found = 0; attempt < PROPOSE_DEFAULTS.feasibleSampleAttempts && found < PROPOSE_DEFAULTS.designFallbackCandidates; attempt++) {
    const x = settle(samplePoint(space, rng));
    if (!feasible(decode(space, x))) continue;
    found++;
    const d = observed.length === 0 ? Infinity : Math.min(...observed.map((o) => squaredDistance(o, x)));
    if (d > fallbackDistance) {
      fallbackDistance = d;
      fallback = x;
    }
  }
  if (!fallback) throw new NoFeasiblePointError(`no feasible point found in ${PROPOSE_DEFAULTS.feasibleSampleAttempts} random samples; the constraint excludes (almost) the whole space`);
  return decode(space, fallback);
}

interface Scored {
  x: Float64Array;
  score: number;
}

type Widen<T> = T extends number ? number : T extends boolean ? boolean : T;
export type ProposeTuning = { -readonly [K in keyof typeof PROPOSE_DEFAULTS]: Widen<(typeof PROPOSE_DEFAULTS)[K]> };
type Tuning = ProposeTuning;

interface AcquisitionContext {
  space: Space;
  gp: FittedGp;
  best: number;
  points: Float64Array[];
  /** Transformed, minimized values, in observation order. */
  values: number[];
  rng: Rng;
  feasible: (c: Config) => boolean;
  isObserved: (c: Config) => boolean;
  settle: (x: Float64Array) => Float64Array;
  tuning: Tuning;
  designSize: number;
}

function maximizeAcquisition(ctx: AcquisitionContext): Scored & { trustRegion?: TrustRegionState; search: "trust_region" | "additive" } {
  const { space, gp, best, points, values, rng, feasible, isObserved, settle, tuning } = ctx;
  const acq = (x: Float64Array): number => {
    const config = decode(space, x);
    if (!feasible(config)) return -Infinity;
    return logExpectedImprovement(gp, x, best);
  };
  const numeric = numericCoordinates(space);
  const categoricalDims = space.dimensions.map((d, i) => ({ d, off: space.offsets[i]! })).filter(({ d }) => d.type === "categorical");
  const D = space.dimensions.length;

  // The trust region is centred on the observed point with the best posterior mean (the
  // incumbent EI improves on), not the best raw value, which noise may have flattered.
  const means = gp.trainingMeans();
  let centreIndex = 0;
  for (let i = 1; i < points.length; i++) if (means[i]! < means[centreIndex]!) centreIndex = i;
  const centre = points[centreIndex]!;
  const state = replayTrustRegion(values, ctx.designSize, D);
  const box = tuning.trustRegion
    ? trustRegionBox(centre, state.length, gp.hyperparameters.lengthScales, numeric)
    : { lower: new Float64Array(space.width), upper: new Float64Array(space.width).fill(1) };
  const clip = (x: Float64Array) => {
    for (const c of numeric) x[c] = Math.min(box.upper[c]!, Math.max(box.lower[c]!, x[c]!));
    return x;
  };
  const perturbProbability = Math.min(1, tuning.perturbedCoordinates / Math.max(numeric.length, 1));
  const flipCategoricals = (x: Float64Array, probability: number) => {
    for (const { d, off } of categoricalDims) {
      if (d.type !== "categorical" || rng.uniform() >= probability) continue;
      for (let k = 0; k < d.choices.length; k++) x[off + k] = 0;
      x[off + rng.int(d.choices.length)] = 1;
    }
  };
  /** A Gaussian step on a random subset of `from`'s coordinates, `step` in box-widths; stays in the box. */
  const perturb = (from: Float64Array, step: number): Float64Array => {
    const x = Float64Array.from(from);
    const move = (c: number) => {
      x[c] = x[c]! + step * (box.upper[c]! - box.lower[c]!) * rng.normal();
    };
    let moved = 0;
    for (const c of numeric) {
      if (rng.uniform() >= perturbProbability) continue;
      moved++;
      move(c);
    }
    if (moved === 0 && numeric.length > 0) move(numeric[rng.int(numeric.length)]!);
    flipCategoricals(x, 1 / D);
    return settle(snap(space, clip(x)));
  };

  const pool: Scored[] = [];
  const add = (x: Float64Array) => pool.push({ x, score: acq(x) });
  // Uniform inside the box (categoricals uniform over their choices).
  for (let i = 0; i < tuning.randomCandidates; i++) {
    const x = samplePoint(space, rng);
    for (const c of numeric) x[c] = box.lower[c]! + x[c]! * (box.upper[c]! - box.lower[c]!);
    add(settle(snap(space, x)));
  }
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  for (const { i } of order.slice(0, tuning.localCentres)) {
    for (let k = 0; k < tuning.localCandidatesPerCentre; k++) add(perturb(clip(Float64Array.from(points[i]!)), tuning.localStep * (k % 2 === 0 ? 1 : 0.25)));
  }

  // The additive step's candidates leave the box on purpose: they move whole coordinates.
  const region = tuning.trustRegion ? { trustRegion: state } : {};
  const ardLengthScale = Math.exp(meanLogLengthScale(gp.hyperparameters.lengthScales, numeric));
  const additiveStep = tuning.additiveCandidates > 0 && ardLengthScale >= tuning.additiveStepMinArdLengthScale;
  const targets = additiveStep ? additiveTargets(gp, numeric, space.width) : null;
  if (targets) {
    const additive: Scored[] = [];
    for (const raw of additiveCandidates(centre, targets, rng, tuning.additiveCandidates)) {
      const x = settle(snap(space, raw));
      const candidate = { x, score: acq(x) };
      additive.push(candidate);
      pool.push(candidate);
    }
    const guidedSteps = points.length - ctx.designSize;
    const every = tuning.additiveStepEvery;
    if (every > 0 && guidedSteps % every === every - 1) {
      additive.sort((a, b) => b.score - a.score);
      for (const c of additive) {
        if (c.score > -Infinity && !isObserved(decode(space, c.x))) return { ...c, ...region, search: "additive" };
      }
      // Every additive candidate is infeasible or observed: the usual search decides.
    }
  }
  pool.sort((a, b) => b.score - a.score);

  // Local refinement of the best few (stochastic hill climbing with a shrinking step).
  const starts: Scored[] = [];
  for (const c of pool) {
    if (starts.length >= tuning.refineStarts) break;
    if (c.score === -Infinity) break;
    if (starts.every((s) => squaredDistance(s.x, c.x) > 1e-8)) starts.push(c);
  }
  const refined: Scored[] = starts.map((start) => {
    let current = start;
    let step = tuning.localStep / 2;
    let failures = 0;
    for (let t = 0; t < tuning.refineSteps && step > 1e-5; t++) {
      const x = perturb(current.x, step);
      const score = acq(x);
      if (score > current.score) {
        current = { x, score };
        failures = 0;
      } else if (++failures >= 6) {
        step /= 2;
        failures = 0;
      }
    }
    return current;
  });
  const ranked = [...refined, ...pool].filter((c) => c.score > -Infinity).sort((a, b) => b.score - a.score);
  for (const c of ranked) {
    if (!isObserved(decode(space, c.x))) return { ...c, ...region, search: "trust_region" };
  }
  // Everything scored is already observed (tiny discrete space) or infeasible: any unobserved feasible point.
  for (let attempt = 0; attempt < PROPOSE_DEFAULTS.feasibleSampleAttempts; attempt++) {
    const x = settle(samplePoint(space, rng));
    const config = decode(space, x);
    if (feasible(config) && !isObserved(config)) return { x, score: acq(x), ...region, search: "trust_region" };
  }
  const anyFeasible = ranked[0];
  if (anyFeasible) return { ...anyFeasible, ...region, search: "trust_region" };
  throw new NoFeasiblePointError("no feasible candidate found; the constraint excludes (almost) the whole space");
}
