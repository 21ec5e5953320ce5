import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KNOB_CATALOG, forbiddenReason, knobSpec, parseKnobValue, renderKnobValue, settingToBase } from "../../../src/core/knobs";

describe("knob values", () => {
  it("parses PostgreSQL unit syntax into bytes and milliseconds", () => {
    const workMem = knobSpec("work_mem")!;
    expect(parseKnobValue(workMem, "64MB")).toBe(64 * 1024 * 1024);
    expect(parseKnobValue(workMem, "4096")).toBe(4096 * 1024); // bare number = the knob's unit (kB)
    expect(parseKnobValue(knobSpec("shared_buffers")!, "16384")).toBe(16384 * 8192); // 8kB pages
    expect(parseKnobValue(knobSpec("checkpoint_timeout")!, "5min")).toBe(300_000);
    expect(parseKnobValue(knobSpec("checkpoint_timeout")!, "300")).toBe(300_000); // seconds
    expect(parseKnobValue(knobSpec("bgwriter_delay")!, "200")).toBe(200);
    expect(parseKnobValue(knobSpec("wal_buffers")!, "-1")).toBe(-1);
    expect(parseKnobValue(knobSpec("jit")!, "off")).toBe(false);
    expect(parseKnobValue(knobSpec("random_page_cost")!, "1.1")).toBe(1.1);
  });

  it("rejects malformed values with a message naming the knob", () => {
    expect(() => parseKnobValue(knobSpec("work_mem")!, "64mb")).toThrow(/work_mem: unknown unit "mb"/);
    expect(() => parseKnobValue(knobSpec("random_page_cost")!, "abc")).toThrow(/random_page_cost: "abc" is not a number/);
    expect(() => parseKnobValue(knobSpec("max_connections")!, "10.5")).toThrow(/not an integer/);
    expect(() => parseKnobValue(knobSpec("jit")!, "maybe")).toThrow(/not a boolean/);
    expect(() => parseKnobValue(knobSpec("work_mem")!, "-1MB")).toThrow(/negative value takes no unit/);
  });

  it("renders with the largest exact unit", () => {
    expect(renderKnobValue({ kind: "memory" }, 512 * 1024 ** 2)).toBe("512MB");
    expect(renderKnobValue({ kind: "memory" }, 1536 * 1024)).toBe("1536kB");
    expect(renderKnobValue({ kind: "memory" }, 2 * 1024 ** 3)).toBe("2GB");
    expect(renderKnobValue({ kind: "duration" }, 300_000)).toBe("5min");
    expect(renderKnobValue({ kind: "duration" }, 90_000)).toBe("90s");
    expect(renderKnobValue({ kind: "bool" }, true)).toBe("on");
    expect(renderKnobValue({ kind: "memory" }, -1)).toBe("-1");
  });

  it("reads pg_settings numbers in their unit", () => {
    expect(settingToBase("memory", "16384", "8kB")).toBe(128 * 1024 ** 2);
    expect(settingToBase("memory", "4096", "kB")).toBe(4 * 1024 ** 2);
    expect(settingToBase("duration", "300", "s")).toBe(300_000);
    expect(settingToBase("memory", "-1", "8kB")).toBe(-1);
  });

  it("round-trips render → parse for every knob over its whole value space", () => {
    for (const spec of KNOB_CATALOG) {
      const arbitrary: fc.Arbitrary<number | boolean | string> =
        spec.kind === "bool"
          ? fc.boolean()
          : spec.kind === "memory"
            ? fc.integer({ min: 0, max: 2 ** 40 }).map((n) => n * 1024)
            : spec.kind === "duration"
              ? fc.integer({ min: 0, max: 10 ** 9 })
              : spec.kind === "integer"
                ? fc.integer({ min: 0, max: 10 ** 6 })
                : fc.double({ min: 0, max: 1000, noNaN: true }).map((x) => Number(x.toPrecision(6)));
      fc.assert(
        fc.property(arbitrary, (value) => {
          expect(parseKnobValue(spec, renderKnobValue(spec, value))).toEqual(value);
        }),
        { numRuns: 200 },
      );
    }
  });

  it("protects durability, replication and auth settings unless allow-listed", () => {
    for (const name of ["fsync", "synchronous_commit", "full_page_writes", "wal_level", "archive_command", "primary_conninfo", "ssl", "password_encryption", "max_wal_senders"]) {
      expect(forbiddenReason(name), name).toBeDefined();
    }
    expect(forbiddenReason("synchronous_commit", ["synchronous_commit"])).toBeUndefined();
    for (const spec of KNOB_CATALOG) expect(forbiddenReason(spec.name), spec.name).toBeUndefined();
  });
});
