/**
 * The demo's degradation: one real, harmful setting, the way it happens in life (someone "tunes"
 * a knob on a running server), applied with ALTER SYSTEM + pg_reload_conf() (reload context, no
 * restart). It must (1) cost throughput and latency both, so detection is confident, (2) leave the
 * statements' shape alone (rows and blocks per call), so the workload class stays OLTP and
 * detection keeps its baseline instead of restarting it for a "workload shift", and (3) have its
 * cure inside pg2une's knob catalog (src/core/knobs/catalog.ts), so the loop can fix it.
 *
 *   jit_above_cost = 0 (preferred, when the server has LLVM JIT): every 0.05 ms primary-key lookup
 *     is JIT-compiled first, milliseconds of code generation each; the cure is `jit = off`, which
 *     PGTune's OLTP profile — the optimizer's warm start — proposes.
 *   random_page_cost = 10000 (fallback, no JIT): index scans priced out, every lookup becomes a
 *     sequential scan; the cure is random_page_cost in the optimizer's 1.1–4.0. This one changes
 *     the statements' shape, so the class may flip to OLAP after 3 windows: the loop must act first.
 */
import { runSql } from "../../postgres/sql";

export interface Degradation {
  name: string;
  /** The statements run before pg_reload_conf(). */
  sql: string[];
  why: string;
}

export const JIT_DEGRADATION: Degradation = {
  name: "jit_above_cost = 0",
  sql: ["ALTER SYSTEM SET jit = on", "ALTER SYSTEM SET jit_above_cost = 0"],
  why: "every primary-key lookup is JIT-compiled before it runs (milliseconds of LLVM code generation for a 0.05 ms query); pg2une's cure would be jit = off",
};

export const SEQSCAN_DEGRADATION: Degradation = {
  name: "random_page_cost = 10000",
  sql: ["ALTER SYSTEM SET random_page_cost = 10000"],
  why: "index scans priced out: every primary-key lookup becomes a sequential scan of pgbench_accounts; pg2une's cure would be random_page_cost within 1.1–4.0",
};

/** Settings the narrator shows after a run (what the demo broke, and what may cure it). */
export const DEGRADATION_KNOBS = ["jit", "jit_above_cost", "random_page_cost"] as const;

/** JIT when this server can (pg_jit_available()), else the sequential-scan one. */
export async function chooseDegradation(targetUrl: string): Promise<Degradation> {
  const rows = await runSql<{ jit: boolean }>(targetUrl, "select pg_jit_available() as jit");
  return rows[0]?.jit ? JIT_DEGRADATION : SEQSCAN_DEGRADATION;
}

/** ALTER SYSTEM … + reload: in effect for every session at its next statement. */
export async function injectDegradation(targetUrl: string, degradation: Degradation): Promise<void> {
  for (const sql of degradation.sql) await runSql(targetUrl, sql);
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

/** A setting as a new session sees it now. */
export async function currentSetting(targetUrl: string, name: string): Promise<string> {
  const rows = await runSql(targetUrl, "select current_setting($1) as v", [name]);
  return String((rows[0] as { v: unknown } | undefined)?.v);
}
