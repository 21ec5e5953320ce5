import { describe, expect, it } from "vitest";
import { RoutingError, poolMatchesLayout, routingLayout, safeToReload } from "../../../src/core/canary";

const primary = { host: "127.0.0.1", port: 6000 };
const canary = { host: "127.0.0.2", port: 6000 };

describe("routing layout", () => {
  it("sends read-write to the primary only and splits the read-only host list", () => {
    const layout = routingLayout({ serverDatabase: "app", primary, canary, canaryPct: 25 });
    expect(layout.readWrite).toEqual({ name: "rw", dbname: "app", host: "127.0.0.1", port: 6000 });
    expect(layout.readOnly.name).toBe("ro");
    expect(layout.readOnly.hosts).toHaveLength(20);
    expect(layout.readOnly.hosts.filter((h) => h === "127.0.0.2")).toHaveLength(5);
    expect(layout.readOnly).toMatchObject({ poolSize: 20, minPoolSize: 20, port: 6000 });
    expect(layout.canarySlots).toBe(5);
  });

  it("never names the canary in the read-write entry, at any percentage", () => {
    for (const canaryPct of [0, 5, 25, 50, 100]) {
      expect(routingLayout({ serverDatabase: "app", primary, canary, canaryPct }).readWrite.host).toBe(primary.host);
    }
  });

  it("routes primary-only without a canary, and refuses a split it cannot express", () => {
    expect(new Set(routingLayout({ serverDatabase: "app", primary, canaryPct: 0 }).readOnly.hosts)).toEqual(new Set(["127.0.0.1"]));
    expect(() => routingLayout({ serverDatabase: "app", primary, canaryPct: 5 })).toThrow(/needs a canary/);
    expect(() => routingLayout({ serverDatabase: "app", primary, canary: { host: "127.0.0.2", port: 6001 }, canaryPct: 5 })).toThrow(/share one port/);
    expect(() => routingLayout({ serverDatabase: "app", primary, canary: primary, canaryPct: 5 })).toThrow(RoutingError);
    expect(() => routingLayout({ serverDatabase: "app", primary, canaryPct: 0, entries: { readWrite: "x", readOnly: "x" } })).toThrow(/different names/);
  });
});

describe("pool refilled to the layout", () => {
  const layout = routingLayout({ serverDatabase: "app", primary, canary, canaryPct: 25 });
  const servers = (user: string, canaryCount: number, total = 20) =>
    Array.from({ length: total }, (_, i) => ({ database: "ro", user, host: i < canaryCount ? "127.0.0.2" : "127.0.0.1" }));
  const pool = (user: string, clients: number) => ({ database: "ro", user, clients });

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

describe("safe to RELOAD", () => {
  const current = routingLayout({ serverDatabase: "app", primary, canaryPct: 0 });
  const full = Array.from({ length: 20 }, () => ({ database: "ro", user: "a", host: "127.0.0.1" }));
  it("waits for logins in flight on the routed entries and for the current layout to be complete", () => {
    expect(safeToReload(current, [{ database: "ro", user: "a", clients: 8, loggingIn: 0 }], full, ["rw", "ro"])).toBe(true);
    expect(safeToReload(current, [{ database: "ro", user: "a", clients: 8, loggingIn: 1 }], full, ["rw", "ro"])).toBe(false);
    expect(safeToReload(current, [{ database: "rw", user: "a", clients: 1, loggingIn: 1 }], full, ["rw", "ro"])).toBe(false);
    expect(safeToReload(current, [{ database: "other", user: "a", clients: 1, loggingIn: 1 }], full, ["rw", "ro"])).toBe(true);
    expect(safeToReload(current, [{ database: "ro", user: "a", clients: 8, loggingIn: 0 }], full.slice(1), ["rw", "ro"])).toBe(false);
    expect(safeToReload(undefined, [], [], ["rw", "ro"])).toBe(true);
  });
});
