/**
 * Expected values are read off PGTune's own test suite
 * (le0pard/pgtune src/features/configuration/__tests__/configurationSlice.test.js); the last
 * block is a full recommendation worked through PGTune's formulas by hand.
 */
import { describe, expect, it } from "vitest";
import { pgtuneRecommend, type PgtuneInput } from "../../../src/core/optimize/pgtune";

const GB = 1024 ** 3;
const base: PgtuneInput = { dbType: "web", totalMemoryBytes: 4 * GB, storage: "ssd", dbVersion: 15 };

function value(input: Partial<PgtuneInput>, name: string): number | string | undefined {
  return pgtuneRecommend({ ...base, ...input }).settings.find((s) => s.name === name)?.value;
}
const kb = (v: number | string | undefined) => (typeof v === "number" ? v / 1024 : v);

describe("PGTune port, against PGTune's own tests", () => {
  it.each([
    ["web", 200],
    ["oltp", 300],
    ["dw", 40],
    ["desktop", 20],
    ["mixed", 100],
  ] as const)("max_connections for %s is %d", (dbType, expected) => {
    expect(value({ dbType }, "max_connections")).toBe(expected);
  });

  it.each([
    ["web", 100],
    ["oltp", 100],
    ["dw", 500],
    ["desktop", 100],
    ["mixed", 100],
  ] as const)("default_statistics_target for %s is %d", (dbType, expected) => {
    expect(value({ dbType }, "default_statistics_target")).toBe(expected);
  });

  it.each([
    ["hdd", 4, 2],
    ["ssd", 1.1, 200],
    ["san", 1.1, 300],
    ["nvme", 1.1, 1000],
  ] as const)("storage %s: random_page_cost %d, effective_io_concurrency %d", (storage, rpc, eic) => {
    expect(value({ storage }, "random_page_cost")).toBe(rpc);
    expect(value({ storage }, "effective_io_concurrency")).toBe(eic);
  });

  it("leaves effective_io_concurrency out on Windows", () => {
    expect(value({ os: "windows" }, "effective_io_concurrency")).toBeUndefined();
  });

  it("parallel settings by CPUs and version", () => {
    const parallel = (input: Partial<PgtuneInput>) =>
      pgtuneRecommend({ ...base, ...input })
        .settings.filter((s) => ["max_worker_processes", "max_parallel_workers_per_gather", "max_parallel_workers", "max_parallel_maintenance_workers"].includes(s.name))
        .map((s) => ({ key: s.name, value: s.value }));
    expect(parallel({ dbVersion: 14, cpus: 1 })).toEqual([]);
    expect(parallel({ dbVersion: 13, cpus: 12 })).toEqual([
      { key: "max_worker_processes", value: 12 },
      { key: "max_parallel_workers_per_gather", value: 4 },
      { key: "max_parallel_workers", value: 12 },
      { key: "max_parallel_maintenance_workers", value: 4 },
    ]);
    expect(parallel({ dbVersion: 10, cpus: 12 })).toEqual([
      { key: "max_worker_processes", value: 12 },
      { key: "max_parallel_workers_per_gather", value: 4 },
      { key: "max_parallel_workers", value: 12 },
    ]);
    expect(parallel({ dbVersion: 10, cpus: 31 })).toEqual([
      { key: "max_worker_processes", value: 31 },
      { key: "max_parallel_workers_per_gather", value: 4 },
      { key: "max_parallel_workers", value: 31 },
    ]);
    expect(parallel({ dbVersion: 12, cpus: 31, dbType: "dw" })).toEqual([
      { key: "max_worker_processes", value: 31 },
      { key: "max_parallel_workers_per_gather", value: 16 },
      { key: "max_parallel_workers", value: 31 },
      { key: "max_parallel_maintenance_workers", value: 4 },
    ]);
  });

  it("wal_level only for desktop", () => {
    expect(value({ dbType: "desktop" }, "wal_level")).toBe("minimal");
    expect(value({ dbType: "desktop" }, "max_wal_senders")).toBe("0");
    expect(value({ dbType: "web" }, "wal_level")).toBeUndefined();
  });

  it("maintenance_work_mem caps", () => {
    expect(kb(value({ totalMemoryBytes: 256 * GB, os: "linux", dbVersion: 17 }, "maintenance_work_mem"))).toBe(8388608);
    expect(kb(value({ totalMemoryBytes: 256 * GB, os: "windows", dbVersion: 17 }, "maintenance_work_mem"))).toBe(2096128);
    expect(kb(value({ totalMemoryBytes: 256 * GB, os: "windows", dbVersion: 18 }, "maintenance_work_mem"))).toBe(8388608);
    expect(kb(value({ totalMemoryBytes: 16 * GB, os: "linux", dbVersion: 15 }, "maintenance_work_mem"))).toBe(1048576);
  });

  it("huge_pages", () => {
    expect(value({ totalMemoryBytes: 4 * GB }, "huge_pages")).toBe("off");
    expect(value({ totalMemoryBytes: 16 * GB }, "huge_pages")).toBe("try");
    expect(value({ totalMemoryBytes: 128 * GB, os: "mac" }, "huge_pages")).toBe("off");
  });

  it("work_mem floor and Windows cap", () => {
    expect(kb(value({ connections: 9999, cpus: 4 }, "work_mem"))).toBe(4096);
    expect(kb(value({ totalMemoryBytes: 256 * GB, os: "windows", dbVersion: 17, connections: 20, cpus: 4 }, "work_mem"))).toBe(2096128);
    expect(kb(value({ totalMemoryBytes: 256 * GB, os: "windows", dbVersion: 18, connections: 20, cpus: 4 }, "work_mem"))).toBe(2796202);
  });

  it("jit, wal_compression, autovacuum", () => {
    expect(value({ dbVersion: 12, dbType: "web" }, "jit")).toBe("off");
    expect(value({ dbVersion: 15, dbType: "oltp" }, "jit")).toBe("off");
    expect(value({ dbVersion: 15, dbType: "dw" }, "jit")).toBeUndefined();
    expect(value({ dbVersion: 11, dbType: "web" }, "jit")).toBeUndefined();
    expect(value({ dbVersion: 10 }, "wal_compression")).toBe("on");
    expect(value({ dbVersion: 14 }, "wal_compression")).toBe("on");
    expect(value({ dbVersion: 15 }, "wal_compression")).toBe("lz4");
    expect(value({ cpus: 32 }, "autovacuum_max_workers")).toBe(5);
    expect(value({ cpus: 16 }, "autovacuum_max_workers")).toBe(4);
    expect(value({ cpus: 8 }, "autovacuum_max_workers")).toBeUndefined();
    expect(value({ totalMemoryBytes: 4 * GB }, "autovacuum_work_mem")).toBeUndefined();
    expect(kb(value({ totalMemoryBytes: 256 * GB, os: "linux", dbVersion: 15 }, "autovacuum_work_mem"))).toBe(2097152);
    expect(value({ totalMemoryBytes: 256 * GB, os: "windows", dbVersion: 17 }, "autovacuum_work_mem")).toBeUndefined();
    expect(kb(value({ totalMemoryBytes: 256 * GB, os: "windows", dbVersion: 18 }, "autovacuum_work_mem"))).toBe(2097152);
  });

  it("a whole recommendation: 4GB, 2 CPUs, SSD, OLTP, PostgreSQL 15", () => {
    // shared_buffers = 4GB/4; work_mem = (4194304 − 1048576) kB / ((300 + 8 default workers) × 3) = 3404 kB → 4MB floor.
    const rec = pgtuneRecommend({ dbType: "oltp", totalMemoryBytes: 4 * GB, cpus: 2, storage: "ssd", dbVersion: 15 });
    const conf = Object.fromEntries(rec.settings.map((s) => [s.name, s.rendered]));
    expect(conf).toEqual({
      max_connections: "300",
      shared_buffers: "1GB",
      effective_cache_size: "3GB",
      maintenance_work_mem: "256MB",
      checkpoint_completion_target: "0.9",
      wal_buffers: "16MB",
      default_statistics_target: "100",
      random_page_cost: "1.1",
      effective_io_concurrency: "200",
      work_mem: "4MB",
      huge_pages: "off",
      jit: "off",
      wal_compression: "lz4",
      min_wal_size: "2GB",
      max_wal_size: "8GB",
    });
    // Web: (4194304 − 1048576) / ((200 + 8) × 3) = 5041.2 → 5041kB.
    expect(pgtuneRecommend({ ...base, cpus: 2 }).settings.find((s) => s.name === "work_mem")?.rendered).toBe("5041kB");
  });

  it("rejects bad input with the field named", () => {
    expect(() => pgtuneRecommend({ ...base, storage: "tape" as "ssd" })).toThrow(/storage/);
    expect(() => pgtuneRecommend({ ...base, totalMemoryBytes: -1 })).toThrow(/totalMemoryBytes/);
  });
});
