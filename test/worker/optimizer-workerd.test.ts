/**
 * The optimizer core (with ml-matrix for Cholesky) bundles and runs inside workerd, where the
 * Worker will call it: a knob proposal from measured observations, and a GP-driven propose().
 */
import { describe, expect, it } from "vitest";
import { memoryGuard } from "../../src/core/knobs/memory-guard";
import { propose } from "../../src/core/optimize/propose";
import { buildSpace } from "../../src/core/optimize/space";
import { proposeKnobConfig, type KnobObservation } from "../../src/core/optimize/tune-knobs";

describe("optimizer in workerd", () => {
  it("fits a GP and proposes a point (Cholesky via ml-matrix)", () => {
    const space = buildSpace({ dimensions: [{ name: "x", type: "float", low: 0, high: 1 }, { name: "y", type: "float", low: 0, high: 1 }] });
    const observations = Array.from({ length: 8 }, (_, i) => {
      const config = { x: (i * 0.37) % 1, y: (i * 0.61) % 1 };
      return { config, value: (config.x - 0.3) ** 2 + (config.y - 0.7) ** 2 };
    });
    const p = propose(space, observations, { seed: 1, goal: "minimize", initialDesignSize: 5 });
    expect(p.source).toBe("bayesian");
    expect(p.hyperparameters?.lengthScales).toHaveLength(2);
  });

  it("proposes knob settings that pass the memory guard", () => {
    const MB = 1024 * 1024;
    const current = { shared_buffers: 128 * MB, max_connections: 100, work_mem: 4 * MB, maintenance_work_mem: 64 * MB, autovacuum_max_workers: 3 };
    const knobs = ["shared_buffers", "work_mem", "max_connections", "random_page_cost"];
    const observations: KnobObservation[] = [1, 2, 3, 4, 5, 6].map((i) => ({
      workloadClass: "oltp",
      config: { shared_buffers: (800 + 50 * i) * MB, work_mem: (4 + i) * MB, max_connections: 100 + 10 * i, random_page_cost: 1.1 + 0.1 * i },
      score: 5 - i,
      scoreType: "live_test",
    }));
    const p = proposeKnobConfig({ workloadClass: "oltp", totalRamMb: 4096, current, knobs, observations, seed: 2 });
    expect(p).toMatchObject({ objective: "measured", source: "bayesian" });
    expect(memoryGuard(p.config, current, 4096).ok).toBe(true);
  });
});
