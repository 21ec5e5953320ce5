import { describe, expect, it } from "vitest";
import { branin, hartmann6 } from "../../../bench/_optimizer-functions";
import { PROPOSE_DEFAULTS, propose, type Observation, type ProposeTuning } from "../../../src/core/optimize/propose";
import { createRng } from "../../../src/core/random";
import { buildSpace, decode, encode, isInside, latinHypercube, samplePoint } from "../../../src/core/optimize/space";

const mixed = buildSpace({
  dimensions: [
    { name: "x", type: "float", low: -5, high: 10 },
    { name: "n", type: "int", low: 1, high: 1000, log: true },
    { name: "c", type: "categorical", choices: ["a", "b", "c"] },
    { name: "flag", type: "categorical", choices: [false, true] },
  ],
});

describe("search space", () => {
  it("encodes to the unit cube with one-hot categoricals and round-trips", () => {
    expect(mixed.width).toBe(1 + 1 + 3 + 2);
    const config = { x: 2.5, n: 100, c: "b", flag: true };
    const x = encode(mixed, config);
    [0.5, 2 / 3, 0, 1, 0, 0, 1].forEach((v, i) => expect(x[i]).toBeCloseTo(v, 12));
    expect(decode(mixed, x)).toEqual(config);
  });

  it("samples log dimensions log-uniformly and Latin-hypercube strata once each", () => {
    const rng = createRng(3);
    const ns = Array.from({ length: 4000 }, () => decode(mixed, samplePoint(mixed, rng)).n as number);
    expect(ns.filter((n) => n <= 31).length / ns.length).toBeGreaterThan(0.4); // √1000 ≈ 31.6 is the median
    const design = latinHypercube(mixed, 10, rng);
    const strata = design.map((p) => Math.floor(p[0]! * 10)).sort((a, b) => a - b);
    expect(strata).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const p of design) expect(isInside(mixed, decode(mixed, p))).toBe(true);
  });

  it("rejects malformed spaces naming the field", () => {
    expect(() => buildSpace({ dimensions: [{ name: "x", type: "float", low: 1, high: 0 }] })).toThrow(/high/);
    expect(() => buildSpace({ dimensions: [{ name: "x", type: "int", low: 0, high: 5, log: true }] })).toThrow(/low/);
    expect(() => buildSpace({ dimensions: [{ name: "x", type: "categorical", choices: ["a", "a"] }] })).toThrow(/duplicate choice/);
    expect(() => buildSpace({ dimensions: [] })).toThrow(/at least one dimension/);
  });
});

describe("propose", () => {
  it("starts with an initial design, then the GP; every point is inside the space", () => {
    const rng = createRng(1);
    const observations: Observation[] = [];
    const sources: string[] = [];
    for (let t = 0; t < 8; t++) {
      const p = propose(mixed, observations, { seed: 10 + t, goal: "minimize", initialDesignSize: 5 });
      sources.push(p.source);
      expect(isInside(mixed, p.config)).toBe(true);
      observations.push({ config: p.config, value: rng.normal() });
    }
    expect(sources).toEqual([...Array(5).fill("initial_design"), ...Array(3).fill("bayesian")]);
  });

  it("tries warm-start points first and never repeats an observed one", () => {
    const warm = { x: 1, n: 10, c: "a", flag: false };
    const first = propose(mixed, [], { seed: 1, warmStart: [{ config: warm, source: "pgtune" }] });
    expect(first).toMatchObject({ source: "warm_start", warmStartSource: "pgtune", config: warm });
    const second = propose(mixed, [{ config: warm, value: 1 }], { seed: 1, warmStart: [{ config: warm, source: "pgtune" }] });
    expect(second.source).toBe("initial_design");
  });

  it("honours a constraint at every stage", () => {
    const feasible = (c: Record<string, unknown>) => (c.x as number) + Math.log10(c.n as number) <= 2;
    const rng = createRng(9);
    const observations: Observation[] = [];
    for (let t = 0; t < 10; t++) {
      const p = propose(mixed, observations, { seed: t, feasible, initialDesignSize: 4, warmStart: [{ config: { x: 9, n: 999, c: "a", flag: true }, source: "infeasible" }] });
      expect(feasible(p.config)).toBe(true);
      observations.push({ config: p.config, value: rng.normal() });
    }
  });

  it("is reproducible for a seed", () => {
    const obs: Observation[] = [0, 1, 2, 3, 4, 5].map((i) => ({ config: { x: i, n: 1 + i * 100, c: "abc"[i % 3]!, flag: i % 2 === 0 }, value: i * i }));
    expect(propose(mixed, obs, { seed: 5, goal: "minimize" }).config).toEqual(propose(mixed, obs, { seed: 5, goal: "minimize" }).config);
  });

  it("beats random search on Branin with 20 evaluations (5 seeds, medians)", () => {
    const space = buildSpace(branin.space);
    const bests: Array<[number, number]> = [];
    for (const seed of [1, 2, 3, 4, 5]) {
      const observations: Observation[] = [];
      for (let t = 0; t < 20; t++) {
        const p = propose(space, observations, { seed: seed * 100 + t, goal: "minimize" });
        observations.push({ config: p.config, value: branin.evaluate(p.config as Record<string, number>) });
      }
      const rng = createRng(seed);
      let randomBest = Infinity;
      for (let t = 0; t < 20; t++) randomBest = Math.min(randomBest, branin.evaluate(decode(space, samplePoint(space, rng)) as Record<string, number>));
      bests.push([Math.min(...observations.map((o) => o.value)), randomBest]);
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    const ours = median(bests.map((b) => b[0]));
    const random = median(bests.map((b) => b[1]));
    expect(ours).toBeLessThan(random / 2);
    expect(ours).toBeLessThan(1);
  }, 30_000);

  it("reports the trust region replayed from the history: a run of failures halves it", () => {
    const space = buildSpace({ dimensions: Array.from({ length: 10 }, (_, i) => ({ name: `x${i}`, type: "float" as const, low: 0, high: 1 })) });
    const rng = createRng(4);
    const design: Observation[] = Array.from({ length: 10 }, (_, i) => ({ config: decode(space, samplePoint(space, rng)), value: i }));
    const fresh = propose(space, design, { seed: 1, goal: "minimize" });
    expect(fresh.source).toBe("bayesian");
    expect(fresh.trustRegion?.length).toBe(0.8);
    // Ten proposals that did not beat the best (value 0) in 10-D: failure tolerance max(4, D) = 10.
    const failures: Observation[] = Array.from({ length: 10 }, () => ({ config: decode(space, samplePoint(space, rng)), value: 50 }));
    const shrunk = propose(space, [...design, ...failures], { seed: 1, goal: "minimize" });
    expect(shrunk.trustRegion).toMatchObject({ length: 0.4, failures: 0 });
  });

  it("every third model-guided step is an additive step, which may move coordinates out of the trust region", () => {
    const space = buildSpace({ dimensions: Array.from({ length: 6 }, (_, i) => ({ name: `x${i}`, type: "float" as const, low: 0, high: 1 })) });
    const f = (c: Record<string, unknown>) => Object.values(c).reduce((s: number, v, d) => s + (d + 1) * ((v as number) - 0.3) ** 2, 0);
    const observations: Observation[] = [];
    const searches: Array<string | undefined> = [];
    let leftTheBox = false;
    for (let t = 0; t < 7 + 9; t++) {
      const p = propose(space, observations, { seed: 40 + t, goal: "minimize" });
      if (p.source === "bayesian") {
        searches.push(p.search);
        if (p.search === "additive") {
          // The region's side is at most 0.8 around the centre: a move of more than 0.4 leaves it.
          const best = observations.reduce((a, b) => (b.value < a.value ? b : a));
          leftTheBox ||= Object.keys(p.config).some((k) => Math.abs((p.config[k] as number) - (best.config[k] as number)) > 0.4);
        }
      }
      observations.push({ config: p.config, value: f(p.config) });
    }
    expect(searches).toEqual(["trust_region", "trust_region", "additive", "trust_region", "trust_region", "additive", "trust_region", "trust_region", "additive"]);
    expect(leftTheBox).toBe(true);
  });

  it("no additive step once the model finds short-range interactions (Hartmann-6)", () => {
    const space = buildSpace(hartmann6.space);
    const geometricMean = (v: number[]) => Math.exp(v.reduce((a, b) => a + Math.log(b), 0) / v.length);
    const run = (tuning: Partial<ProposeTuning>) => {
      const observations: Observation[] = [];
      const steps: Array<{ search: string | undefined; ardLengthScale: number; cadence: boolean }> = [];
      for (let t = 0; t < 7 + 30; t++) {
        const p = propose(space, observations, { seed: 70 + t, goal: "minimize", tuning });
        if (p.source === "bayesian") steps.push({ search: p.search, ardLengthScale: geometricMean(p.hyperparameters!.lengthScales), cadence: (t - 7) % 3 === 2 });
        observations.push({ config: p.config, value: hartmann6.evaluate(p.config as Record<string, number>) });
      }
      return steps;
    };
    const gated = run({});
    for (const step of gated) expect(step.search === "additive").toBe(step.cadence && step.ardLengthScale >= PROPOSE_DEFAULTS.additiveStepMinArdLengthScale);
    // The gate closed on some step that the cadence would have made additive.
    expect(gated.some((s) => s.cadence && s.search === "trust_region")).toBe(true);
    const open = run({ additiveStepMinArdLengthScale: 0 });
    for (const step of open) expect(step.search === "additive").toBe(step.cadence);
  }, 60_000);

  it("rejects observations that do not fit the space", () => {
    expect(() => propose(mixed, [{ config: { x: 1, n: 1, c: "z", flag: true }, value: 1 }], { seed: 1 })).toThrow(/c: "z" is not one of/);
    expect(() => propose(mixed, [{ config: { x: 1, n: 1, c: "a", flag: true }, value: NaN }], { seed: 1 })).toThrow(/observations\[0\]\.value/);
  });
});
