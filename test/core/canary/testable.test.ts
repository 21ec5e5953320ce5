import { describe, expect, it } from "vitest";
import { STANDBY_MINIMUM_SETTINGS, canaryTestability, isWritePathSetting } from "../../../src/core/canary";

describe("canary testability", () => {
  it("does not apply a standby minimum below the primary's value, and says why", () => {
    const t = canaryTestability("max_connections", 50, 100);
    expect(t).toMatchObject({ verdict: "standby_minimum", apply: false });
    if (t.verdict !== "testable") expect(t.why).toMatch(/below the primary's 100/);
    for (const name of STANDBY_MINIMUM_SETTINGS) expect(canaryTestability(name, 1, 2).apply).toBe(false);
  });

  it("tests a standby minimum at or above the primary's value", () => {
    expect(canaryTestability("max_connections", 200, 100).verdict).toBe("testable");
    expect(canaryTestability("max_connections", 100, 100).verdict).toBe("testable");
    expect(canaryTestability("max_connections", 200).apply).toBe(false); // primary's value unknown
  });

  it("applies write-path settings but reports them as not tested by read-only traffic", () => {
    for (const name of ["checkpoint_timeout", "max_wal_size", "wal_buffers", "bgwriter_delay", "autovacuum_naptime", "maintenance_work_mem"]) {
      expect(isWritePathSetting(name), name).toBe(true);
      expect(canaryTestability(name, 1)).toMatchObject({ verdict: "write_path", apply: true });
    }
  });

  it("calls read-path settings testable", () => {
    for (const name of ["work_mem", "random_page_cost", "shared_buffers", "effective_cache_size", "jit"]) {
      expect(canaryTestability(name, 1).verdict, name).toBe("testable");
    }
  });
});
