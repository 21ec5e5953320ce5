import { describe, expect, it } from "vitest";
import { confidenceScore } from "../../../src/core/detect/confidence";
import { fact, formatFact, toFactMap } from "../../../src/core/detect/facts";

const none = { cusumCount: 0, uslDeviation: null, otavaConfirms: false, seasonalUnexpected: false };

describe("confidence score (the seed's formula)", () => {
  it("is low without signals", () => {
    expect(confidenceScore(none)).toMatchObject({ score: 0, high: false });
  });

  it("reaches high confidence with two CUSUM degradations: 2 × 0.15 = 0.30", () => {
    expect(confidenceScore({ ...none, cusumCount: 2 })).toMatchObject({ score: 0.3, high: true });
  });

  it("caps the CUSUM part at 0.30", () => {
    expect(confidenceScore({ ...none, cusumCount: 5 }).score).toBe(0.3);
  });

  it("adds 0.15 for USL deviation below −0.15 (strictly), 0.15 for E-Divisive, 0.10 for the seasonal band", () => {
    expect(confidenceScore({ ...none, uslDeviation: -0.15 }).score).toBe(0);
    expect(confidenceScore({ ...none, uslDeviation: -0.16 }).score).toBe(0.15);
    expect(confidenceScore({ cusumCount: 1, uslDeviation: -0.2, otavaConfirms: true, seasonalUnexpected: true })).toMatchObject({
      score: 0.55,
      high: true,
    });
    expect(confidenceScore({ ...none, seasonalUnexpected: true })).toMatchObject({ score: 0.1, high: false });
    expect(confidenceScore({ ...none, cusumCount: 1, seasonalUnexpected: true })).toMatchObject({ score: 0.25, high: false });
  });
});

describe("facts", () => {
  it("convert to the Datalog engine's JSON map, zero-arity facts as [[]]", () => {
    const facts = [
      fact("metric_degraded", "tps"),
      fact("cusum_degradation", "tps", 6.2),
      fact("query_regression", "12345", "same_load", 48.3),
      fact("query_regression", "777", "changed_load", 21),
      fact("workload_shift"),
      fact("high_confidence"),
    ];
    expect(toFactMap(facts)).toEqual({
      metric_degraded: [["tps"]],
      cusum_degradation: [["tps", 6.2]],
      query_regression: [
        ["12345", "same_load", 48.3],
        ["777", "changed_load", 21],
      ],
      workload_shift: [[]],
      high_confidence: [[]],
    });
    expect(JSON.parse(JSON.stringify(toFactMap(facts)))).toEqual(toFactMap(facts));
  });

  it("print as Datalog text for humans", () => {
    expect(formatFact(fact("query_regression", "12345", "same_load", 48.3))).toBe('query_regression("12345", same_load, 48.3)');
    expect(formatFact(fact("high_confidence"))).toBe("high_confidence()");
  });
});
