import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memoryGuard } from "../../../src/core/knobs/memory-guard";
import { workloadRanges, WORKLOAD_CLASSES, type WorkloadClass } from "../../../src/core/knobs/ranges";
import { pgtuneRecommend, pgtuneValues } from "../../../src/core/optimize/pgtune";
import { improvementScore } from "../../../src/core/optimize/objective";
import { knobSpace, proposeKnobConfig, type KnobObservation } from "../../../src/core/optimize/tune-knobs";
import { createRng } from "../../../src/core/random";
import { decode, samplePoint } from "../../../src/core/optimize/space";

const MB = 1024 * 1024;
const PG_DEFAULT_CURRENT = { shared_buffers: 128 * MB, max_connections: 100, work_mem: 4 * MB, maintenance_work_mem: 64 * MB, autovacuum_max_workers: 3, wal_buffers: -1 };

describe("memory guard", () => {
  it("implements shared_buffers + max_connections·work_mem·1.5 + autovacuum_max_workers·maintenance_work_mem ≤ 90 % RAM", () => {
    // 1024 + 100·8·1.5 + 3·256 = 2992 MB ≤ 0.9·4096 = 3686.4 MB
    const ok = memoryGuard({ shared_buffers: 1024 * MB, max_connections: 100, work_mem: 8 * MB, maintenance_work_mem: 256 * MB }, { autovacuum_max_workers: 3 }, 4096);
    expect(ok).toMatchObject({ ok: true, estimateMb: 2992, limitMb: 3686.4 });
    // 100 → 200 connections: 1024 + 2400 + 768 = 4192 MB > 3686.4 MB
    expect(memoryGuard({ shared_buffers: 1024 * MB, max_connections: 200, work_mem: 8 * MB, maintenance_work_mem: 256 * MB }, { autovacuum_max_workers: 3 }, 4096).ok).toBe(false);
  });

  it("takes the current value for knobs the proposal leaves out", () => {
    const current = { shared_buffers: 3000 * MB, max_connections: 100, work_mem: 4 * MB, maintenance_work_mem: 64 * MB, autovacuum_max_workers: 3 };
    expect(memoryGuard({}, current, 4096).estimateMb).toBe(3000 + 600 + 192);
    expect(memoryGuard({ work_mem: 1 * MB }, current, 4096).ok).toBe(true);
    expect(memoryGuard({ work_mem: 4 * MB }, current, 4096).ok).toBe(false);
  });

  it("is never violated by 10 000 proposals over random machines, classes, current configs and histories", () => {
    const rng = createRng(2024);
    let proposals = 0;
    let bayesian = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...WORKLOAD_CLASSES),
        fc.integer({ min: 512, max: 262_144 }),
        fc.integer({ min: 16, max: 8192 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (workloadClass, totalRamMb, sharedBuffersMb, maxConnections, autovacuumWorkers, seed) => {
          const current = { ...PG_DEFAULT_CURRENT, shared_buffers: sharedBuffersMb * MB, max_connections: maxConnections, autovacuum_max_workers: autovacuumWorkers };
          let proposal;
          try {
            proposal = proposeKnobConfig({ workloadClass, totalRamMb, current, observations: [], seed, initialDesignSize: 10 });
          } catch (err) {
            // A space in which nothing fits is refused loudly, never answered with a violating config.
            expect((err as Error).name).toBe("NoFeasiblePointError");
            return;
          }
          proposals++;
          expect(memoryGuard(proposal.config, current, totalRamMb).ok).toBe(true);
          void rng;
        },
      ),
      { numRuns: 9_950, seed: 7 },
    );
    // Plus Bayesian proposals (GP fitted on random measured histories), which are slower.
    for (let i = 0; i < 50; i++) {
      const workloadClass = WORKLOAD_CLASSES[i % 3]!;
      const totalRamMb = 1024 * (1 + (i % 16));
      const ks = knobSpace(workloadClass, totalRamMb, { knobs: ["shared_buffers", "work_mem", "max_connections", "maintenance_work_mem", "random_page_cost"] });
      const observations: KnobObservation[] = Array.from({ length: 8 }, () => ({
        workloadClass,
        config: ks.toBase(decode(ks.space, samplePoint(ks.space, rng))),
        score: 20 * rng.normal(),
        scoreType: "live_test",
      }));
      const p = proposeKnobConfig({ workloadClass, totalRamMb, current: PG_DEFAULT_CURRENT, knobs: ks.ranges.map((r) => r.knob), observations, seed: i, initialDesignSize: 5 });
      if (p.source === "bayesian") bayesian++;
      proposals++;
      expect(memoryGuard(p.config, PG_DEFAULT_CURRENT, totalRamMb).ok).toBe(true);
    }
    expect(bayesian).toBe(50);
    expect(proposals).toBeGreaterThan(9_000);
  }, 120_000);
});

describe("workload ranges", () => {
  it("keep the seed's ranges for its six knobs on a roomy machine", () => {
    const r = Object.fromEntries(workloadRanges("oltp", 65536).map((x) => [x.knob, x]));
    expect([r.shared_buffers!.low, r.shared_buffers!.high]).toEqual([13107, 19660]);
    expect([r.effective_cache_size!.low, r.effective_cache_size!.high]).toEqual([39321, 49152]);
    expect([r.work_mem!.low, r.work_mem!.high, r.work_mem!.log]).toEqual([4, 64, true]);
    expect([r.maintenance_work_mem!.low, r.maintenance_work_mem!.high]).toEqual([64, 1024]);
    expect([r.random_page_cost!.low, r.random_page_cost!.high, r.random_page_cost!.type]).toEqual([1.1, 2.0, "float"]);
    expect([r.max_connections!.low, r.max_connections!.high, r.max_connections!.type]).toEqual([100, 500, "int"]);
    const olap = Object.fromEntries(workloadRanges("olap", 65536).map((x) => [x.knob, x]));
    expect([olap.work_mem!.low, olap.work_mem!.high]).toEqual([128, 512]);
  });

  it("lower work_mem on a small machine so the smallest config fits", () => {
    for (const cls of WORKLOAD_CLASSES) {
      for (const ram of [512, 1024, 2048, 4096]) {
        const r = Object.fromEntries(workloadRanges(cls, ram).map((x) => [x.knob, x]));
        const lowCorner = { shared_buffers: r.shared_buffers!.low * MB, max_connections: r.max_connections!.low, work_mem: r.work_mem!.low * MB, maintenance_work_mem: r.maintenance_work_mem!.low * MB };
        expect(memoryGuard(lowCorner, { autovacuum_max_workers: 3 }, ram).ok, `${cls} ${ram} MB`).toBe(true);
      }
    }
  });

  it("cover every catalog knob, integer/log as the catalog says", () => {
    const r = workloadRanges("mixed", 8192, { cpus: 2 });
    expect(r).toHaveLength(17);
    expect(r.find((x) => x.knob === "max_parallel_workers_per_gather")?.high).toBe(2);
    expect(r.find((x) => x.knob === "jit")?.type).toBe("bool");
    expect(r.find((x) => x.knob === "checkpoint_timeout")).toMatchObject({ unit: "s", toBase: 1000, log: true });
  });
});

describe("knob proposals: warm start and provenance", () => {
  const current = { ...PG_DEFAULT_CURRENT, effective_cache_size: 4096 * MB, random_page_cost: 4, min_wal_size: 80 * MB, max_wal_size: 1024 * MB };
  const pgtune = pgtuneValues(pgtuneRecommend({ dbType: "oltp", totalMemoryBytes: 8 * 1024 * MB, cpus: 2, storage: "ssd", dbVersion: 15 }));
  const knobs = ["shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem", "random_page_cost", "max_connections"];

  it("tries PGTune's recommendation first, projected into the workload range", () => {
    const p = proposeKnobConfig({ workloadClass: "oltp", totalRamMb: 8192, current, knobs, pgtune, observations: [], seed: 1 });
    expect(p).toMatchObject({ source: "warm_start", warmStartSource: "pgtune", objective: "none" });
    expect(p.rendered.shared_buffers).toBe("2GB");
    expect(p.rendered.effective_cache_size).toBe("6GB");
    expect(p.memory.ok).toBe(true);
  });

  it("uses measured observations of the same class and ignores surrogate scores once one exists", () => {
    const measuredPgtune: KnobObservation = {
      workloadClass: "oltp",
      config: pgtune as Record<string, number>,
      score: improvementScore({ tps: 100, latencyP99: 10 }, { tps: 110, latencyP99: 9 }),
      scoreType: "live_test",
    };
    const surrogates: KnobObservation[] = [{ workloadClass: "oltp", config: current, score: 0.7, scoreType: "surrogate" }];
    const otherClass: KnobObservation = { ...measuredPgtune, workloadClass: "olap" };
    const p = proposeKnobConfig({ workloadClass: "oltp", totalRamMb: 8192, current, knobs, pgtune, observations: [measuredPgtune, ...surrogates, otherClass], seed: 1 });
    expect(p).toMatchObject({ objective: "measured", measuredObservations: 1, ignoredSurrogateObservations: 1, observationsUsed: 2, source: "initial_design" });
  });

  it("falls back to surrogate scores only while nothing is measured, and says so", () => {
    const surrogates: KnobObservation[] = [{ workloadClass: "mixed", config: current, score: 0.6, scoreType: "surrogate" }];
    const p = proposeKnobConfig({ workloadClass: "mixed", totalRamMb: 8192, current, knobs, observations: surrogates, seed: 3 });
    expect(p.objective).toBe("surrogate");
  });

  it("is deterministic for a seed", () => {
    const a = proposeKnobConfig({ workloadClass: "olap", totalRamMb: 16384, current, observations: [], seed: 42 });
    const b = proposeKnobConfig({ workloadClass: "olap", totalRamMb: 16384, current, observations: [], seed: 42 });
    expect(a.config).toEqual(b.config);
  });

  it("rejects a knob outside the catalog with a clear error", () => {
    expect(() => proposeKnobConfig({ workloadClass: "oltp", totalRamMb: 4096, current, knobs: ["fsync"], observations: [], seed: 1 })).toThrow(/fsync/);
  });
});

describe("improvement score", () => {
  it("weighs TPS 60 % and p99 latency 40 %, like the original", () => {
    expect(improvementScore({ tps: 1000, latencyP99: 20 }, { tps: 1100, latencyP99: 18 })).toBe(10);
    expect(improvementScore({ tps: 1000, latencyP99: 20 }, { tps: 900, latencyP99: 22 })).toBe(-10);
    expect(improvementScore({ tps: 0, latencyP99: 20 }, { tps: 50, latencyP99: 10 })).toBe(20);
    expect(() => improvementScore({ tps: -1, latencyP99: 1 }, { tps: 1, latencyP99: 1 })).toThrow(/tps/);
  });
});

void ({} as WorkloadClass);
