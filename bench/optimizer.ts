/**
 * `npm run bench -- optimizer [--seeds 20] [--first-seed 0] [--only branin,hartmann6,levy10,h6in10,ackley10,rosenbrock10]`
 *
 * Our GP/log-EI optimizer vs random search vs a Latin-hypercube design on standard functions,
 * 20 seeds each: median best value found, median regret (best − optimum) and the ratio of
 * regrets. Then the time of one propose() call with 50 observations in 10 dimensions.
 *
 * Targets (issue 7): Branin median best ≤ 0.41 after 30 evaluations; Hartmann-6 median best
 * ≤ −3.0 after 50; median regret ≥ 5× lower than random search at the same budgets (Branin,
 * Hartmann-6 and the 10-D function, Levy-10); propose() with 50 observations in 10-D
 * < 200 ms. Three more 10-D functions are reported, not gated, so the table shows where the
 * optimizer does well and where it does not: Hartmann-6 embedded in 10-D with 4 inactive
 * coordinates (like knobs that barely matter), Ackley-10 (a flat plateau with one narrow
 * funnel) and Rosenbrock-10 (a curved valley).
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { propose, type Observation } from "../src/core/optimize/propose";
import { createRng } from "../src/core/random";
import { buildSpace, decode, latinHypercube, samplePoint, type Space } from "../src/core/optimize/space";
import type { GpHyperparameters } from "../src/core/optimize/gp";
import { ackley10, branin, hartmann6, hartmann6in10, levy10, rosenbrock10, type TestFunction } from "./_optimizer-functions";
import { printComparison, printInputs, type ComparisonRow } from "./table";

const DEFAULT_SEEDS = 20;
const REGRET_RATIO_TARGET = 5;
const PROPOSE_TIME_TARGET_MS = 200;

interface Case {
  key: string;
  fn: TestFunction;
  budget: number;
  /** Median best-found target, when the issue sets one. */
  bestTarget?: number;
  /** Whether the 5× regret ratio gates the exit code (the functions) or is reported. */
  gated: boolean;
}

const CASES: Case[] = [
  { key: "branin", fn: branin, budget: 30, bestTarget: 0.41, gated: true },
  { key: "hartmann6", fn: hartmann6, budget: 50, bestTarget: -3.0, gated: true },
  { key: "levy10", fn: levy10, budget: 50, gated: true },
  { key: "h6in10", fn: hartmann6in10, budget: 50, gated: false },
  { key: "ackley10", fn: ackley10, budget: 50, gated: false },
  { key: "rosenbrock10", fn: rosenbrock10, budget: 50, gated: false },
];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function evaluate(fn: TestFunction, config: Record<string, unknown>): number {
  return fn.evaluate(config as Record<string, number>);
}

function runOurs(fn: TestFunction, space: Space, budget: number, seed: number, timings: number[]): number {
  const observations: Observation[] = [];
  let previous: GpHyperparameters | undefined;
  for (let t = 0; t < budget; t++) {
    const started = performance.now();
    const p = propose(space, observations, { seed: seed * 7919 + t, goal: "minimize", ...(previous ? { previousHyperparameters: previous } : {}) });
    timings.push(performance.now() - started);
    previous = p.hyperparameters ?? previous;
    observations.push({ config: p.config, value: evaluate(fn, p.config) });
  }
  return Math.min(...observations.map((o) => o.value));
}

function runRandom(fn: TestFunction, space: Space, budget: number, seed: number): number {
  const rng = createRng(seed + 1_000_003);
  let best = Infinity;
  for (let t = 0; t < budget; t++) best = Math.min(best, evaluate(fn, decode(space, samplePoint(space, rng))));
  return best;
}

function runLhs(fn: TestFunction, space: Space, budget: number, seed: number): number {
  const rng = createRng(seed + 2_000_003);
  return Math.min(...latinHypercube(space, budget, rng).map((x) => evaluate(fn, decode(space, x))));
}

/**
 * propose() with 50 observations in 10 dimensions, cold (no previous hyperparameters). Wall
 * time and this process's CPU time: on a shared machine the wall time mostly measures the
 * other work, the CPU time is close to what a quiet machine would show.
 */
function timeProposeCall(repeats: number): { median: number; max: number; cpuMedian: number } {
  const space = buildSpace(levy10.space);
  const rng = createRng(99);
  const observations: Observation[] = Array.from({ length: 50 }, () => {
    const config = decode(space, samplePoint(space, rng));
    return { config, value: evaluate(levy10, config) };
  });
  const times: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    propose(space, observations, { seed: r, goal: "minimize" });
    times.push(performance.now() - started);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }
  return { median: median(times), max: Math.max(...times), cpuMedian: median(cpu) };
}

export default async function optimizerBench(args: string[]): Promise<boolean> {
  const { values } = parseArgs({ args, options: { seeds: { type: "string" }, "first-seed": { type: "string" }, only: { type: "string" } } });
  const seeds = values.seeds ? Number(values.seeds) : DEFAULT_SEEDS;
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`--seeds must be a positive integer, got ${values.seeds}`);
  // A second seed set (e.g. --first-seed 101) checks that a median is not one lucky draw.
  const firstSeed = values["first-seed"] ? Number(values["first-seed"]) : 0;
  if (!Number.isInteger(firstSeed) || firstSeed < 0) throw new Error(`--first-seed must be a non-negative integer, got ${values["first-seed"]}`);
  const only = values.only ? new Set(values.only.split(",")) : null;
  const cases = CASES.filter((c) => !only || only.has(c.key));
  printInputs("optimizer: GP (Matérn 5/2 ARD, MAP) + log-EI vs random search vs Latin hypercube", {
    seeds: `${seeds} (${firstSeed}–${firstSeed + seeds - 1})`,
    functions: cases.map((c) => `${c.fn.name}, ${c.budget} evaluations, optimum ${c.fn.optimum}`).join("; "),
    "10-D functions": "Levy on [−10, 10]¹⁰ (the issue's, gated); Hartmann-6 in [0, 1]¹⁰ with 4 inactive coordinates, Ackley on [−32.768, 32.768]¹⁰, Rosenbrock on [−5, 10]¹⁰ (reported)",
    machine: "2 cores, shared with other work while measured (timings are noisy)",
  });
  let ok = true;
  for (const c of cases) {
    const space = buildSpace(c.fn.space);
    const ours: number[] = [];
    const random: number[] = [];
    const lhs: number[] = [];
    const timings: number[] = [];
    const started = performance.now();
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
      ours.push(runOurs(c.fn, space, c.budget, seed, timings));
      random.push(runRandom(c.fn, space, c.budget, seed));
      lhs.push(runLhs(c.fn, space, c.budget, seed));
    }
    const regret = (v: number[]) => median(v.map((b) => b - c.fn.optimum));
    const rows: ComparisonRow[] = [];
    const oursBest = median(ours);
    const bestPass = c.bestTarget === undefined ? undefined : oursBest <= c.bestTarget;
    rows.push({ metric: "median best vs random", ours: oursBest, reference: median(random), ...(c.bestTarget !== undefined ? { target: `≤ ${c.bestTarget}`, pass: bestPass! } : {}) });
    rows.push({ metric: "median best vs LHS", ours: oursBest, reference: median(lhs) });
    const regretRatio = regret(random) / Math.max(regret(ours), 1e-12);
    const ratioPass = regretRatio >= REGRET_RATIO_TARGET;
    rows.push({ metric: "median regret vs random", ours: regret(ours), reference: regret(random), target: `ratio ≤ ${(1 / REGRET_RATIO_TARGET).toFixed(2)}`, ...(c.gated ? { pass: ratioPass } : {}) });
    rows.push({ metric: "median regret vs LHS", ours: regret(ours), reference: regret(lhs) });
    rows.push({ metric: "ms per propose() (mean)", ours: timings.reduce((a, b) => a + b, 0) / timings.length, reference: null });
    rows.push({ metric: "ms per propose() (max)", ours: Math.max(...timings), reference: null });
    console.log(`### ${c.fn.name}, ${c.budget} evaluations, ${seeds} seeds (${((performance.now() - started) / 1000).toFixed(1)} s; random/ours regret = ${regretRatio.toFixed(1)}×${c.gated ? "" : ", reported, not gated"})\n`);
    printComparison("ours (GP)", "baseline", rows);
    if (c.gated) ok = ok && bestPass !== false && ratioPass;
  }
  const timing = timeProposeCall(10);
  console.log(`### propose() with 50 observations in 10 dimensions (cold start, 10 calls; load average ${loadavg().map((l) => l.toFixed(2)).join(", ")})\n`);
  const timePass = timing.median < PROPOSE_TIME_TARGET_MS;
  printComparison("ours", "target", [
    { metric: "median ms", ours: timing.median, reference: PROPOSE_TIME_TARGET_MS, target: `< ${PROPOSE_TIME_TARGET_MS} ms`, pass: timePass },
    { metric: "max ms", ours: timing.max, reference: PROPOSE_TIME_TARGET_MS },
    { metric: "median CPU ms (this process)", ours: timing.cpuMedian, reference: PROPOSE_TIME_TARGET_MS },
  ]);
  return ok && timePass;
}
