/**
 * The original pg2une's heuristic scorer (lib/pg2une/scorer.ex), kept only as a prior: it
 * rates a configuration 0…1 by rules of thumb, without looking at the database. pg2une uses
 * it while a workload class has no measured observation yet, and says so in the proposal's
 * provenance; once a measurement exists, surrogate scores are ignored.
 *
 * Note the scale differs from improvementScore (percent), which is why the two never mix.
 */
import type { WorkloadClass } from "../knobs/ranges";

const MB = 1024 * 1024;

/** config values in base units (bytes for memory). */
export function surrogateScore(config: Readonly<Record<string, unknown>>, workloadClass: WorkloadClass, totalRamMb: number): number {
  const mb = (name: string, fallback: number) => (typeof config[name] === "number" ? (config[name] as number) / MB : fallback);
  const num = (name: string, fallback: number) => (typeof config[name] === "number" ? (config[name] as number) : fallback);
  const sharedBuffers = mb("shared_buffers", 0);
  const workMem = mb("work_mem", 32);
  const maxConnections = num("max_connections", 100);
  const maintenance = mb("maintenance_work_mem", 0);
  const effectiveCache = mb("effective_cache_size", 0);
  const randomPageCost = num("random_page_cost", 4);

  let penalty = 0;
  const estimated = sharedBuffers + workMem * maxConnections * 0.3 + maintenance;
  if (estimated > totalRamMb * 0.85) penalty += Math.min(0.5, (estimated - totalRamMb * 0.85) / totalRamMb);
  if (workloadClass === "oltp" && workMem > 128) penalty += 0.15;
  if (workloadClass === "olap" && workMem < 64) penalty += 0.15;
  if (effectiveCache > 0 && sharedBuffers > effectiveCache) penalty += 0.2;
  else if (effectiveCache > 0 && effectiveCache > totalRamMb * 0.9) penalty += 0.1;

  let score = 0.5;
  const sharedPct = sharedBuffers / totalRamMb;
  if (sharedPct >= 0.2 && sharedPct <= 0.35) score += 0.2;
  else if (sharedPct >= 0.15 && sharedPct <= 0.4) score += 0.1;
  if (randomPageCost <= 1.5) score += 0.1;
  if (workloadClass === "oltp" && workMem <= 64 && maxConnections >= 100) score += 0.15;
  else if (workloadClass === "olap" && workMem >= 128) score += 0.15;
  else if (workloadClass === "mixed") score += 0.05;
  return Math.max(0, Math.min(1, Math.min(1, score) - penalty));
}
