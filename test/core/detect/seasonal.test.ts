import { describe, expect, it } from "vitest";
import { createRng } from "../../../src/core/random";
import { bucketMeans, seasonalExpectation } from "../../../src/core/detect/seasonal";
import { DEFAULT_DETECT_CONFIG } from "../../../src/core/detect/config";
import type { SystemSnapshot } from "../../../src/core/detect/history";

const CONFIG = DEFAULT_DETECT_CONFIG.seasonal;
const MINUTE = 60_000;
const T0 = Date.parse("2025-02-03T00:00:00Z");

/** tps with a daily cycle (±30 %), sampled every `stepMin` minutes for `minutes`. */
function daily(minutes: number, stepMin = 5, noise = 0.02, last?: (v: number) => number): SystemSnapshot[] {
  const rng = createRng(17);
  const out: SystemSnapshot[] = [];
  for (let m = 0; m < minutes; m += stepMin) {
    const truth = 1000 * (1 + 0.3 * Math.sin((2 * Math.PI * m) / 1440));
    out.push({ snapshot_time: new Date(T0 + m * MINUTE).toISOString(), tps: truth * (1 + noise * rng.normal()) });
  }
  if (last) out[out.length - 1]!.tps = last(out[out.length - 1]!.tps as number);
  return out;
}

describe("seasonal expectation", () => {
  it("learns a daily cycle with Holt–Winters and expects the right value for the newest bucket", () => {
    const history = daily(3 * 1440 + 17 * 60);
    const e = seasonalExpectation(history, "tps", CONFIG)!;
    const newestMinute = (Date.parse(history.at(-1)!.snapshot_time) - T0) / MINUTE;
    const bucketMid = Math.floor(newestMinute / 15) * 15 + 7.5;
    const truth = 1000 * (1 + 0.3 * Math.sin((2 * Math.PI * bucketMid) / 1440));
    console.log(`Holt–Winters: expected ${e.expected.toFixed(1)} vs truth ${truth.toFixed(1)}, band [${e.lower.toFixed(1)}, ${e.upper.toFixed(1)}]`);
    expect(e.method).toBe("holt_winters");
    expect(Math.abs(e.expected - truth) / truth).toBeLessThan(0.03);
    expect(e.position).toBe("inside");
  });

  it("puts a 40 % drop outside the band, below", () => {
    const e = seasonalExpectation(daily(3 * 1440 + 600, 5, 0.02, (v) => v * 0.6), "tps", CONFIG)!;
    expect(e.position).toBe("below");
  });

  it("falls back to Holt's method on a short history and gives nothing on a very short one", () => {
    const short = seasonalExpectation(daily(6 * 60), "tps", CONFIG)!;
    expect(short.method).toBe("holt");
    expect(short.position).toBe("inside");
    expect(seasonalExpectation(daily(60), "tps", CONFIG)).toBeNull();
    expect(seasonalExpectation(daily(3 * 1440), "latency_p99", CONFIG)).toBeNull();
  });

  it("averages per bucket and leaves empty buckets null", () => {
    expect(bucketMeans([0, 1, 2, 31, 32], [1, 2, 3, 10, 20], 10)).toEqual([2, null, null, 15]);
  });

  it("skips null values instead of reading them as zero", () => {
    const history = daily(12 * 60).map((s, i) => (i % 3 === 0 ? { ...s, tps: null } : s));
    const e = seasonalExpectation(history, "tps", CONFIG)!;
    expect(e.expected).toBeGreaterThan(900);
  });
});
