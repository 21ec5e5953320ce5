/**
 * PGTune's recommendation (le0pard/pgtune, src/features/configuration/configurationSlice.js,
 * the 2025 version with NVMe, JIT, wal_compression, autovacuum and PostgreSQL 18 AIO), ported
 * formula by formula so it gives the same numbers as pgtune.leopard.in.ua. pg2une uses it as
 * the baseline to compare against and as the first warm-start point of the optimizer.
 *
 * All memory values are computed in kB, exactly like PGTune (its floors and caps are in kB),
 * and returned in bytes, pg2une's base unit.
 *
 * @example
 *   const rec = pgtuneRecommend({ dbType: "oltp", totalMemoryBytes: 4 * 2 ** 30, cpus: 2, storage: "ssd", dbVersion: 15 });
 *   rec.settings.find((s) => s.name === "shared_buffers")?.rendered; // "1GB"
 */
import { z } from "zod";

export const PGTUNE_DB_TYPES = ["web", "oltp", "dw", "desktop", "mixed"] as const;
export const PGTUNE_STORAGE = ["ssd", "hdd", "san", "nvme"] as const;
export const PGTUNE_OS = ["linux", "windows", "mac"] as const;
/** How the database compares to RAM (PGTune's "DB size" option); "comparable" changes nothing. */
export const PGTUNE_DATA_SIZE = ["smaller_than_ram", "comparable", "larger_than_ram"] as const;

export const PgtuneInputSchema = z.object({
  dbType: z.enum(PGTUNE_DB_TYPES),
  totalMemoryBytes: z.number().int().positive(),
  cpus: z.number().int().positive().optional(),
  connections: z.number().int().positive().optional(),
  storage: z.enum(PGTUNE_STORAGE),
  /** Major version, e.g. 15. */
  dbVersion: z.number().int().min(10),
  os: z.enum(PGTUNE_OS).default("linux"),
  dataSize: z.enum(PGTUNE_DATA_SIZE).default("comparable"),
});

export type PgtuneInput = z.input<typeof PgtuneInputSchema>;

export interface PgtuneSetting {
  name: string;
  /** Bytes for memory settings, plain numbers or strings otherwise. */
  value: number | string;
  /** As PGTune prints it in postgresql.conf ("1GB", "5041kB", "0.9", "off"). */
  rendered: string;
  kind: "memory" | "number" | "string";
  reason: string;
}

export interface PgtuneRecommendation {
  input: z.output<typeof PgtuneInputSchema>;
  settings: PgtuneSetting[];
  warnings: string[];
}

const KB_PER_MB = 1024;
const KB_PER_GB = 1024 * 1024;

/** PGTune's formatValue: GB or MB only when exact, else kB. */
export function formatPgtuneKb(kb: number): string {
  if (kb % KB_PER_GB === 0) return `${Math.floor(kb / KB_PER_GB)}GB`;
  if (kb % KB_PER_MB === 0) return `${Math.floor(kb / KB_PER_MB)}MB`;
  return `${kb}kB`;
}

type DbType = (typeof PGTUNE_DB_TYPES)[number];
const byType = <T>(table: Record<DbType, T>, t: DbType): T => table[t];

export function pgtuneRecommend(raw: PgtuneInput): PgtuneRecommendation {
  const input = PgtuneInputSchema.parse(raw);
  const { dbType, os, dbVersion, storage, dataSize } = input;
  const cpus = input.cpus ?? null;
  const totalKb = input.totalMemoryBytes / 1024;
  const windowsLegacy = os === "windows" && dbVersion <= 17;
  const settings: PgtuneSetting[] = [];
  const memory = (name: string, kb: number, reason: string) => settings.push({ name, value: kb * 1024, rendered: formatPgtuneKb(kb), kind: "memory", reason });
  const number = (name: string, value: number, reason: string) => settings.push({ name, value, rendered: String(value), kind: "number", reason });
  const text = (name: string, value: string, reason: string) => settings.push({ name, value, rendered: value, kind: "string", reason });

  const maxConnections = input.connections ?? byType({ web: 200, oltp: 300, dw: 40, desktop: 20, mixed: 100 }, dbType);
  number("max_connections", maxConnections, input.connections ? "as given" : `PGTune default for ${dbType}`);

  let sharedBuffers = byType({ web: Math.floor(totalKb / 4), oltp: Math.floor(totalKb / 4), dw: Math.floor(totalKb / 4), desktop: Math.floor(totalKb / 16), mixed: Math.floor(totalKb / 4) }, dbType);
  if (dbVersion < 10 && os === "windows") sharedBuffers = Math.min(sharedBuffers, 512 * KB_PER_MB);
  memory("shared_buffers", sharedBuffers, dbType === "desktop" ? "1/16 of RAM (desktop)" : "1/4 of RAM");

  const effectiveCache = byType({ web: Math.floor((totalKb * 3) / 4), oltp: Math.floor((totalKb * 3) / 4), dw: Math.floor((totalKb * 3) / 4), desktop: Math.floor(totalKb / 4), mixed: Math.floor((totalKb * 3) / 4) }, dbType);
  memory("effective_cache_size", effectiveCache, dbType === "desktop" ? "1/4 of RAM (desktop)" : "3/4 of RAM");

  let maintenance = byType({ web: Math.floor(totalKb / 16), oltp: Math.floor(totalKb / 16), dw: Math.floor(totalKb / 8), desktop: Math.floor(totalKb / 16), mixed: Math.floor(totalKb / 16) }, dbType);
  const maintenanceCap = windowsLegacy ? 2 * KB_PER_GB : 8 * KB_PER_GB;
  if (maintenance >= maintenanceCap) maintenance = windowsLegacy ? maintenanceCap - KB_PER_MB : maintenanceCap;
  memory("maintenance_work_mem", maintenance, `${dbType === "dw" ? "1/8" : "1/16"} of RAM, capped at ${windowsLegacy ? "2GB−1MB (Windows ≤ 17)" : "8GB"}`);

  number("checkpoint_completion_target", 0.9, "spread checkpoint writes (PostgreSQL 14's default)");

  let walBuffers = Math.floor((3 * sharedBuffers) / 100);
  const maxWalBuffer = 16 * KB_PER_MB;
  if (walBuffers > maxWalBuffer) walBuffers = maxWalBuffer;
  if (walBuffers > 14 * KB_PER_MB && walBuffers < maxWalBuffer) walBuffers = maxWalBuffer;
  if (walBuffers < 32) walBuffers = 32;
  memory("wal_buffers", walBuffers, "3 % of shared_buffers, at most 16MB");

  number("default_statistics_target", byType({ web: 100, oltp: 100, dw: 500, desktop: 100, mixed: 100 }, dbType), dbType === "dw" ? "larger samples for analytic plans" : "PostgreSQL default");

  let randomPageCost: number;
  let rpcReason: string;
  if (dataSize === "smaller_than_ram") [randomPageCost, rpcReason] = [1.1, "data fits in RAM: reads come from cache"];
  else if (storage === "hdd") [randomPageCost, rpcReason] = [4, "spinning disk"];
  else if (dbType === "dw") [randomPageCost, rpcReason] = [4, "DW larger than RAM: keep the default to avoid index-scan plans"];
  else [randomPageCost, rpcReason] = [1.1, `${storage}: random reads cost about as much as sequential`];
  number("random_page_cost", randomPageCost, rpcReason);

  if (os === "linux") number("effective_io_concurrency", { hdd: 2, ssd: 200, san: 300, nvme: 1000 }[storage], `${storage} handles that many concurrent requests`);

  const parallel = parallelSettings(dbVersion, dbType, cpus);
  const workerProcesses = parallel.find((p) => p.name === "max_worker_processes")?.value ?? 8;
  const workMemBase = (totalKb - sharedBuffers) / ((maxConnections + workerProcesses) * 3);
  let workMem = byType({ web: Math.floor(workMemBase), oltp: Math.floor(workMemBase), dw: Math.floor(workMemBase / 2), desktop: Math.floor(workMemBase / 6), mixed: Math.floor(workMemBase / 2) }, dbType);
  if (dataSize === "smaller_than_ram") workMem = Math.floor(workMem * 1.3);
  else if (dataSize === "larger_than_ram") workMem = Math.floor(workMem * 0.9);
  if (workMem < 4 * KB_PER_MB) workMem = 4 * KB_PER_MB;
  if (windowsLegacy) workMem = Math.min(workMem, 2 * KB_PER_GB - KB_PER_MB);
  memory("work_mem", workMem, "(RAM − shared_buffers) / ((max_connections + max_worker_processes) × 3), at least 4MB");

  const hugePages = os === "mac" ? "off" : sharedBuffers >= 2 * KB_PER_GB ? "try" : "off";
  text("huge_pages", hugePages, hugePages === "try" ? "shared_buffers ≥ 2GB" : os === "mac" ? "not supported on macOS" : "shared_buffers < 2GB");

  if (dbVersion >= 12 && (dbType === "web" || dbType === "oltp" || dbType === "mixed")) text("jit", "off", "JIT costs more than it saves on short queries");

  if (dbVersion >= 15) text("wal_compression", "lz4", "lz4 is cheaper than pglz (needs --with-lz4)");
  else text("wal_compression", "on", "compress full-page images (pglz)");

  if (cpus !== null && cpus >= 16) number("autovacuum_max_workers", cpus >= 32 ? 5 : 4, `${cpus} CPUs`);

  if (maintenance >= 2 * KB_PER_GB) {
    let autovacuumWorkMem = 2 * KB_PER_GB;
    if (windowsLegacy) autovacuumWorkMem = Math.min(autovacuumWorkMem, 2 * KB_PER_GB - KB_PER_MB);
    memory("autovacuum_work_mem", autovacuumWorkMem, "cap per-worker vacuum memory at 2GB");
  }

  if (dbVersion >= 18) {
    text("io_method", os === "linux" ? "io_uring" : "worker", "PostgreSQL 18 asynchronous I/O");
    if (cpus !== null) {
      const ioWorkers = Math.min(32, Math.max(3, Math.floor(cpus / 4)));
      if (ioWorkers > 3) number("io_workers", ioWorkers, "about 1/4 of the CPUs");
    }
  }

  const minWal = byType({ web: 1024, oltp: 2048, dw: 4096, desktop: 100, mixed: 1024 }, dbType) * KB_PER_MB;
  const maxWal = byType({ web: 4096, oltp: 8192, dw: 16384, desktop: 2048, mixed: 4096 }, dbType) * KB_PER_MB;
  memory("min_wal_size", minWal, `PGTune value for ${dbType}`);
  memory("max_wal_size", maxWal, `PGTune value for ${dbType}`);

  for (const p of parallel) number(p.name, p.value, p.reason);

  if (dbType === "desktop") {
    text("wal_level", "minimal", "desktop: no replication");
    text("max_wal_senders", "0", "required by wal_level = minimal");
  }

  const warnings: string[] = [];
  if (input.totalMemoryBytes < 256 * 1024 * 1024) warnings.push("PGTune is not optimal for low memory systems");
  else if (input.totalMemoryBytes > 100 * 1024 ** 3) warnings.push("PGTune is not optimal for very high memory systems");
  if (dbVersion >= 15) warnings.push("wal_compression = lz4 requires PostgreSQL compiled with --with-lz4");
  if (dbVersion >= 18 && os === "linux") warnings.push("io_method = io_uring requires PostgreSQL compiled with --with-liburing");
  return { input, settings, warnings };
}

function parallelSettings(dbVersion: number, dbType: DbType, cpus: number | null): Array<{ name: string; value: number; reason: string }> {
  if (!cpus || cpus < 4) return [];
  let perGather = Math.ceil(cpus / 2);
  if (dbType !== "dw" && perGather > 4) perGather = 4;
  const out = [
    { name: "max_worker_processes", value: cpus, reason: "one per CPU" },
    { name: "max_parallel_workers_per_gather", value: perGather, reason: dbType === "dw" ? "half the CPUs" : "half the CPUs, at most 4" },
  ];
  if (dbVersion >= 10) out.push({ name: "max_parallel_workers", value: cpus, reason: "one per CPU" });
  if (dbVersion >= 11) out.push({ name: "max_parallel_maintenance_workers", value: Math.min(4, Math.ceil(cpus / 2)), reason: "half the CPUs, at most 4" });
  return out;
}

/** The recommendation as a map name → value (bytes for memory), for warm starts. */
export function pgtuneValues(rec: PgtuneRecommendation): Record<string, number | string> {
  return Object.fromEntries(rec.settings.map((s) => [s.name, s.value]));
}
