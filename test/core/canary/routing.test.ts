import { describe, expect, it } from "vitest";
import { RoutingError, poolMatchesLayout, routingLayout } from "../../../src/core/canary";

const primary = { host: "127.0.0.1", port: 6000 };
const canary = { host: "127.0.0.2", port: 6000 };

describe("routing layout", () => {
  it("sends read-write to the primary only and splits the read-only host list", () => {
    const layout = routingLayout({ database: "app", primary, canary, canaryPct: 25 });
    expect(layout.readWrite).toEqual({ name: "app", dbname: "app", host: "127.0.0.1", port: 6000 });
    expect(layout.readOnly.name).toBe("app_ro");
    expect(layout.readOnly.hosts).toHaveLength(20);
    expect(layout.readOnly.hosts.filter((h) => h === "127.0.0.2")).toHaveLength(5);
    expect(layout.readOnly).toMatchObject({ poolSize: 20, minPoolSize: 20, port: 6000 });
    expect(layout.canarySlots).toBe(5);
  });

  it("never names the canary in the read-write entry, at any percentage", () => {
    for (const canaryPct of [0, 5, 25, 50, 100]) {
      expect(routingLayout({ database: "app", primary, canary, canaryPct }).readWrite.host).toBe(primary.host);
    }
  });

  it("routes primary-only without a canary, and refuses a split it cannot express", () => {
    expect(new Set(routingLayout({ database: "app", primary, canaryPct: 0 }).readOnly.hosts)).toEqual(new Set(["127.0.0.1"]));
    expect(() => routingLayout({ database: "app", primary, canaryPct: 5 })).toThrow(/needs a canary/);
    expect(() => routingLayout({ database: "app", primary, canary: { host: "127.0.0.2", port: 6001 }, canaryPct: 5 })).toThrow(/share one port/);
    expect(() => routingLayout({ database: "app", primary, canary: primary, canaryPct: 5 })).toThrow(RoutingError);
  });
});

describe("pool refilled to the layout", () => {
  const layout = routingLayout({ database: "app", primary, canary, canaryPct: 25 });
  const servers = (user: string, canaryCount: number, total = 20) =>
    Array.from({ length: total }, (_, i) => ({ database: "app_ro", user, host: i < canaryCount ? "127.0.0.2" : "127.0.0.1" }));
  const pool = (user: string, clients: number) => ({ database: "app_ro", user, clients });

  it("needs exactly k canary and N−k primary connections in every pool that has clients", () => {
    expect(poolMatchesLayout(layout, [pool("a", 8)], servers("a", 5))).toBe(true);
    expect(poolMatchesLayout(layout, [pool("a", 8)], servers("a", 4))).toBe(false);
    expect(poolMatchesLayout(layout, [pool("a", 8)], servers("a", 5, 19))).toBe(false);
    expect(poolMatchesLayout(layout, [pool("a", 8), pool("b", 1)], servers("a", 5))).toBe(false);
    expect(poolMatchesLayout(layout, [pool("a", 8), pool("b", 1)], [...servers("a", 5), ...servers("b", 5)])).toBe(true);
  });

  it("does not wait for pools without clients (PgBouncer only fills those when clients come)", () => {
    expect(poolMatchesLayout(layout, [pool("a", 0)], [])).toBe(true);
    expect(poolMatchesLayout(layout, [], [])).toBe(true);
  });
});
