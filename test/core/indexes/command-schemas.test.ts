import { describe, expect, it } from "vitest";
import { CreateIndexPayloadSchema, DropIndexPayloadSchema, HypoIndexesPayloadSchema, IndexAdvisorThresholdsSchema } from "../../../src/core/indexes";

const firstIssue = (r: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  r.success ? null : `${r.error!.issues[0]!.path.join(".")}: ${r.error!.issues[0]!.message}`;

describe("index command payloads", () => {
  it("fills every threshold with its documented default", () => {
    expect(IndexAdvisorThresholdsSchema.parse({})).toMatchObject({ minCostSavingsPct: 50, minCalls: 10, writeHeavyPolicy: "skip", minMeasuredImprovementPct: 20 });
    expect(HypoIndexesPayloadSchema.parse({})).toEqual({ thresholds: {}, hints: true });
  });

  it("rejects bad input naming the field", () => {
    expect(firstIssue(HypoIndexesPayloadSchema.safeParse({ thresholds: { minCostSavingsPct: 150 } }))).toMatch(/^thresholds\.minCostSavingsPct: /);
    expect(firstIssue(HypoIndexesPayloadSchema.safeParse({ queryIds: ["12; drop table x"] }))).toMatch(/^queryIds\.0: a queryid is a \(signed\) integer/);
    expect(firstIssue(HypoIndexesPayloadSchema.safeParse({ thresholds: { writeHeavyPolicy: "ignore" } }))).toMatch(/^thresholds\.writeHeavyPolicy/);
    expect(firstIssue(CreateIndexPayloadSchema.safeParse({ indexes: [{ schema: "public", table: "t", columns: [], queryIds: ["1"] }] }))).toMatch(/^indexes\.0\.columns/);
    expect(firstIssue(CreateIndexPayloadSchema.safeParse({ indexes: [] }))).toMatch(/^indexes/);
  });

  it("drop_index only accepts pg2une's own index names (or all)", () => {
    expect(DropIndexPayloadSchema.safeParse({ indexes: [{ schema: "public", name: "pg2une_orders_customer_id" }] }).success).toBe(true);
    expect(DropIndexPayloadSchema.safeParse({ all: true }).success).toBe(true);
    const refused = DropIndexPayloadSchema.safeParse({ indexes: [{ schema: "public", name: "orders_pkey" }] });
    expect(refused.success).toBe(false);
    expect(JSON.stringify(refused.error?.issues)).toMatch(/pg2une only drops indexes it created/);
    expect(DropIndexPayloadSchema.safeParse({ all: false }).success).toBe(false);
  });
});
