/**
 * Targets pg2une tunes: the default one from env (so the seed's single-target setup needs no API
 * call) plus rows of `targets`. A row with the default's name overrides the env default.
 */
import { asc } from "drizzle-orm";
import type { WorkerConfig } from "../config";
import type { Db } from "./db";
import { targets } from "./schema";

export interface Target {
  name: string;
  runnerUrl: string;
  runnerKeyId: string;
  mode: "direct" | "canary";
  totalRamMb: number;
  cpus: number | null;
  storage: "ssd" | "hdd" | "san" | null;
  enabled: boolean;
  source: "env" | "db";
}

export function defaultTarget(config: WorkerConfig): Target {
  return {
    name: config.TARGET_NAME,
    runnerUrl: config.RUNNER_URL,
    runnerKeyId: config.RUNNER_KEY_ID,
    mode: config.TARGET_MODE,
    totalRamMb: config.TOTAL_RAM_MB,
    cpus: null,
    storage: null,
    enabled: true,
    source: "env",
  };
}

export async function listTargets(db: Db, config: WorkerConfig): Promise<Target[]> {
  const rows = await db.select().from(targets).orderBy(asc(targets.name));
  const fromDb: Target[] = rows.map((r) => ({
    name: r.name,
    runnerUrl: r.runnerUrl,
    runnerKeyId: r.runnerKeyId,
    mode: r.mode,
    totalRamMb: r.totalRamMb,
    cpus: r.cpus,
    storage: r.storage,
    enabled: r.enabled,
    source: "db",
  }));
  const names = new Set(fromDb.map((t) => t.name));
  return names.has(config.TARGET_NAME) ? fromDb : [defaultTarget(config), ...fromDb];
}

/** Resolves `?target=` (default: the env target); undefined when no such target exists. */
export async function findTarget(db: Db, config: WorkerConfig, name: string | undefined): Promise<Target | undefined> {
  const wanted = name ?? config.TARGET_NAME;
  return (await listTargets(db, config)).find((t) => t.name === wanted);
}
