/**
 * One cron tick: for every enabled target, note the tick in its Durable Object. Later stages
 * (collect → derive → detect → decide) hang off this loop; a failure on one target is logged
 * and never stops the others.
 */
import { parseWorkerConfig } from "./config";
import { rolloutStub } from "./rollout/stub";
import { openDb } from "./store/db";
import { pruneOlderThan, type PruneReport } from "./store/samples";
import { listTargets } from "./store/targets";

export interface TickReport {
  at: number;
  targets: Array<{ name: string; ok: boolean; error?: string }>;
  /** Retention pruning (RETENTION_DAYS, default 14) of samples and snapshots. */
  prune: PruneReport | { error: string };
}

export async function runScheduledTick(env: Env, scheduledTime: number): Promise<TickReport> {
  const config = parseWorkerConfig(env);
  const { db, close } = openDb(config);
  const report: TickReport = { at: scheduledTime, targets: [], prune: { error: "not run" } };
  try {
    const targets = (await listTargets(db, config)).filter((t) => t.enabled);
    for (const target of targets) {
      try {
        await rolloutStub(env, target.name).recordTick(scheduledTime);
        report.targets.push({ name: target.name, ok: true });
      } catch (err) {
        report.targets.push({ name: target.name, ok: false, error: String(err) });
      }
    }
    try {
      report.prune = await pruneOlderThan(db, config.RETENTION_DAYS, new Date(scheduledTime));
    } catch (err) {
      report.prune = { error: String(err) };
    }
  } finally {
    await close();
  }
  console.log(JSON.stringify({ event: "cron_tick", at: new Date(scheduledTime).toISOString(), targets: report.targets, prune: report.prune }));
  return report;
}
