/**
 * The demo's degradation: a real, harmful setting, the way it happens in life (someone "tunes"
 * a cost knob). `random_page_cost = 10000` makes every index scan look 2 500× dearer than a
 * sequential read, so the planner answers each primary-key lookup of the workload with a
 * sequential scan of pgbench_accounts: throughput falls to what the CPU can scan and latency
 * jumps. It is a reload-context setting (ALTER SYSTEM + pg_reload_conf(), no restart), inside
 * pg2une's knob catalog (src/core/knobs/catalog.ts), whose search ranges (1.1–4.0) hold the cure.
 */
import { runSql } from "../../postgres/sql";

export const DEGRADATION = {
  knob: "random_page_cost",
  value: "10000",
  why: "every primary-key lookup becomes a sequential scan of pgbench_accounts",
} as const;

/** ALTER SYSTEM SET + reload: in effect for every session at its next statement. */
export async function injectDegradation(targetUrl: string): Promise<void> {
  await runSql(targetUrl, `alter system set ${DEGRADATION.knob} = ${DEGRADATION.value}`);
  await runSql(targetUrl, "select pg_reload_conf()");
}

/**
 * The demo target starts from PostgreSQL's defaults: whatever an earlier demo injected or pg2une
 * tuned there is reset (ALTER SYSTEM RESET ALL + reload). The demo has its own state dir, so this
 * never touches the user's `npm start` data.
 */
export async function resetDemoSettings(targetUrl: string): Promise<void> {
  await runSql(targetUrl, "alter system reset all");
  await runSql(targetUrl, "select pg_reload_conf()");
}

/** The setting as sessions see it now (after the reload). */
export async function currentSetting(targetUrl: string, name: string = DEGRADATION.knob): Promise<string> {
  const rows = await runSql(targetUrl, "select current_setting($1) as v", [name]);
  return String((rows[0] as { v: unknown } | undefined)?.v);
}

/** Whether the demo's harmful value is still in postgresql.auto.conf (pg2une has not replaced it). */
export async function degradationInPlace(targetUrl: string): Promise<boolean> {
  const rows = await runSql(targetUrl, "select setting from pg_file_settings where name = $1 and applied order by seqno desc limit 1", [DEGRADATION.knob]);
  const setting = (rows[0] as { setting?: unknown } | undefined)?.setting;
  return setting !== undefined && Number(setting) === Number(DEGRADATION.value);
}
