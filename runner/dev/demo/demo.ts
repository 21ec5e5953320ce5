/**
 * `pg2une dev --demo`: on top of the running stack, the whole loop on its own —
 *
 *   reset the demo target's settings, fresh pgbench tables, clear the demo target's metric history
 *   → workload through PgBouncer (./workload) → "baseline learning…" until every CUSUM has its
 *   reference and has watched DEMO_TIMELINE.steadyTicks more → inject the degradation
 *   (./degradation) → narrate what the cron loop detects and decides (/api/status), the run it
 *   starts, its steps and outcome (/api/optimization/:id).
 *
 * The demo decides nothing itself: detection, the decision and the run are pg2une's own (cron →
 * analysis → rules → Durable Object → runner). It only drives load, breaks one thing, and reads
 * the REST API.
 */
import { join } from "node:path";
import { runSql } from "../../postgres/sql";
import type { DevOutput } from "../output";
import type { DevStackInfo } from "../stack";
import { DEGRADATION_KNOBS, chooseDegradation, currentSetting, injectDegradation, resetDemoSettings } from "./degradation";
import { allMonitoring, demoApi, describeCusum, describeOutcome, elapsed, fmt, type DemoApi, type DemoStatus } from "./narrator";
import { DEMO_WORKLOAD, initPgbenchTables, startDemoWorkload, writeDemoScripts, type DemoWorkload } from "./workload";

/**
 * The demo's detection windows (the Worker's DETECTION_WINDOWS, src/decide/detection-windows.ts):
 * a CUSUM reference of 30 snapshots instead of 60, so at the demo's 5 s tick the baseline is
 * learned in 2½ minutes. Only the window length changes; k, h and the σ floors stay.
 */
export const DEMO_DETECTION_WINDOWS = { cusumReferenceSize: 30 } as const;

export const DEMO_TIMELINE = {
  /** Inject once every CUSUM has monitored this many ticks after learning its baseline. */
  steadyTicks: 12,
  /** How often the narrator reports baseline progress, and polls /api/status. */
  progressEveryMs: 30_000,
  statusEveryMs: 2_000,
  /** Let pgbench warm up before history starts, so the first snapshots are not a ramp. */
  warmUpMs: 10_000,
} as const;

const STOP_WAIT_MS = 5_000;

/** The target the dev stack's Worker tunes (TARGET_NAME in wrangler.toml). */
const DEMO_TARGET = "default";

export interface RunningDemo {
  stop(): Promise<void>;
}

export async function startDemo(info: DevStackInfo, output: DevOutput, cronIntervalS: number, pgbench: string): Promise<RunningDemo> {
  const t0 = Date.now();
  const say = (msg: string, stream: "stdout" | "stderr" = "stdout") => output.line("demo", `${elapsed(t0)}  ${msg}`, stream);
  if (!info.pgbouncerUrl) throw new Error("the demo needs PgBouncer (its workload goes through it)");
  const api = demoApi(info.apiUrl, info.apiToken);
  let stopped = false;
  const stopping = new AbortController();
  // Every wait ends at once when the demo stops, so stop() never waits out a timer.
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      stopping.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });

  say(`preparing: ALTER SYSTEM RESET ALL on the demo target, pgbench -i -s ${DEMO_WORKLOAD.scale} (fresh tables), scripts in ${join(info.layout.root, "demo-workload")}`);
  await resetDemoSettings(info.targetUrl);
  const degradation = await chooseDegradation(info.targetUrl);
  await initPgbenchTables(pgbench, info.targetUrl, DEMO_WORKLOAD.scale);
  await warmTarget(info.targetUrl);
  const scriptArgs = writeDemoScripts(join(info.layout.root, "demo-workload"));

  const workload: DemoWorkload = startDemoWorkload({
    pgbench,
    url: info.pgbouncerUrl,
    scriptArgs,
    onChunk: (r) =>
      say(
        `workload: ${r.seconds} s of pgbench through PgBouncer: ${r.processed} transactions (${fmt(r.tps)} tps of ${DEMO_WORKLOAD.rate} asked), latency avg ${fmt(r.latencyMs, 2)} ms, ${r.failed} failed` +
          (r.exitCode === 0 ? "" : `; pgbench exit ${r.exitCode}: ${lastLines(r.output)}`),
        r.exitCode === 0 ? "stdout" : "stderr",
      ),
  });
  say(`workload started: pgbench -c ${DEMO_WORKLOAD.clients} -R ${DEMO_WORKLOAD.rate} (90 % primary-key lookups, 10 % small writes) through ${info.pgbouncerUrl}`);

  const story = (async () => {
    await sleep(DEMO_TIMELINE.warmUpMs);
    if (stopped) return;
    const cleared = await clearHistory(info.databaseUrl);
    say(
      `baseline learning… (${cleared} old snapshots of the demo target cleared) the cron ticks every ${cronIntervalS} s; CUSUM learns each metric's baseline ` +
        `from the first ${DEMO_DETECTION_WINDOWS.cusumReferenceSize} snapshots, then watches ${DEMO_TIMELINE.steadyTicks} more before the degradation (≈ ${Math.round(((DEMO_DETECTION_WINDOWS.cusumReferenceSize + DEMO_TIMELINE.steadyTicks + 2) * cronIntervalS) / 60)} min)`,
    );
    let injected = false;
    const narrateRuns = runNarrator(api, info, (msg, stream) => say(msg, stream), () => injected);
    let monitoredTicks = new Set<string>();
    let lastProgress = Date.now();
    for (;;) {
      await sleep(DEMO_TIMELINE.statusEveryMs);
      if (stopped) return;
      const status = await api.status().catch(() => null);
      await narrateRuns(status);
      const decision = status?.last_decision;
      // Break it only into a quiet present: every CUSUM watching, no run, no cooldown (a false
      // alarm's run would otherwise hold the loop back for the rules' 300 s).
      const quiet = status !== null && !status.busy && (status.cooldown_left_seconds ?? 0) === 0 && decision?.suppress_action !== true;
      if (allMonitoring(decision) && quiet) monitoredTicks.add(decision!.at);
      else monitoredTicks = new Set();
      if (Date.now() - lastProgress >= DEMO_TIMELINE.progressEveryMs) {
        lastProgress = Date.now();
        const items = (await api.history(60).catch(() => [])).filter((x) => x.tps !== null);
        const last = items.at(-1);
        const waiting = status?.busy ? "; waiting for the run to end" : (status?.cooldown_left_seconds ?? 0) > 0 || decision?.suppress_action ? "; waiting out the cooldown after that run" : "";
        say(`baseline learning… ${items.length} snapshots; tps ${fmt(last?.tps)}, p99 ${fmt(last?.latency_p99, 2)} ms; CUSUM: ${decision ? describeCusum(decision) : "no decision yet"}${waiting}`);
      }
      if (monitoredTicks.size >= DEMO_TIMELINE.steadyTicks) break;
    }
    await injectDegradation(info.targetUrl, degradation);
    injected = true;
    const injectedAt = Date.now();
    say(`injecting degradation: ${degradation.sql.join("; ")}; SELECT pg_reload_conf() — ${degradation.why}`);

    let detected = false;
    for (;;) {
      await sleep(DEMO_TIMELINE.statusEveryMs);
      if (stopped) return;
      const status = await api.status().catch(() => null);
      const decision = status?.last_decision;
      if (!detected && decision && Date.parse(decision.at) > injectedAt && decision.detectors.length > 0) {
        detected = true;
        say(
          `pg2une detected ${Math.round((Date.parse(decision.at) - injectedAt) / 1000)} s after the injection: ${decision.detectors.join(", ")}; ` +
            `CUSUM ${describeCusum(decision)}; confidence ${fmt(decision.confidence, 2)}; decision: ${decision.status} — ${decision.why}`,
        );
      }
      await narrateRuns(status);
    }
  })().catch((err: Error) => {
    if (!stopped) say(`the demo's narrator stopped: ${err.message}`, "stderr");
  });

  return {
    async stop() {
      stopped = true;
      stopping.abort();
      await workload.stop();
      // An API call in flight may take a moment; the stack is stopped next either way.
      await Promise.race([story, new Promise((r) => setTimeout(r, STOP_WAIT_MS))]);
    },
  };
}

/**
 * Tells each run the cron loop (or anyone) starts: its start, its steps as /api/status shows them,
 * and its outcome and timeline from /api/optimization/:id.
 */
function runNarrator(api: DemoApi, info: DevStackInfo, say: (msg: string, stream?: "stdout" | "stderr") => void, injected: () => boolean) {
  let known: DemoStatus["run"] = null;
  let first = true;
  let lastStep = "";
  let told = "";
  return async (status: DemoStatus | null) => {
    const run = status?.run ?? null;
    if (first) {
      // A run from an earlier demo is history, not news.
      first = false;
      known = run;
      if (run) told = run.id;
      return;
    }
    if (!run) return;
    if (run.id !== known?.id) {
      const early = injected() ? "" : " — before any degradation: a false alarm on this machine; the demo waits for it and its cooldown";
      say(`run ${run.id} started (${run.action}, ${run.mode}${run.trigger ? `, trigger ${run.trigger}` : ""})${early}`);
      lastStep = "";
    }
    if (run.step !== lastStep && !run.finishedAt) {
      say(`  step: ${run.step} [${run.phase}]`);
      lastStep = run.step;
    }
    // Told once the object is done with it (a rollback may still run after finishedAt) and its record is written.
    if (run.finishedAt && !status!.busy && told !== run.id) {
      const full = await api.run(run.id).catch(() => null);
      if (full && full.outcome === null) return;
      told = run.id;
      if (full) {
        for (const e of full.events) say(`  ${e.kind} ${e.state}: ${e.message}`);
        say(`outcome of ${run.id}: ${describeOutcome(full)}`);
      } else {
        say(`outcome of ${run.id}: ${run.outcome}${run.reason ? ` — ${run.reason}` : ""}`);
      }
      say(`settings now: ${(await Promise.all(DEGRADATION_KNOBS.map(async (k) => `${k} = ${await currentSetting(info.targetUrl, k)}`))).join(", ")}`);
      say("the loop keeps watching (cron → analysis → rules); Ctrl-C stops the workload and everything else");
    }
    known = run;
  };
}

/**
 * Fresh tables, settled: statistics, a checkpoint, and the tables and indexes in shared_buffers
 * (pg_prewarm), so the cache hit ratio does not drift while detection learns its baseline.
 */
async function warmTarget(targetUrl: string): Promise<void> {
  await runSql(targetUrl, "vacuum analyze");
  await runSql(targetUrl, "checkpoint");
  try {
    await runSql(targetUrl, "create extension if not exists pg_prewarm");
    for (const rel of ["pgbench_accounts", "pgbench_accounts_pkey", "pgbench_branches", "pgbench_tellers", "pgbench_history"]) {
      await runSql(targetUrl, "select pg_prewarm($1::regclass)", [rel]);
    }
  } catch {
    // pg_prewarm is contrib; without it the first minutes warm the cache the slow way.
  }
}

/** The demo target's metric history goes, so detection learns its baseline from this demo's load only. */
async function clearHistory(databaseUrl: string): Promise<number> {
  await runSql(databaseUrl, "delete from workload_snapshots where target = $1", [DEMO_TARGET]);
  const rows = await runSql<{ n: string }>(databaseUrl, "with d as (delete from system_snapshots where target = $1 returning 1) select count(*)::text as n from d", [DEMO_TARGET]);
  await runSql(databaseUrl, "delete from raw_samples where target = $1", [DEMO_TARGET]);
  return Number(rows[0]?.n ?? 0);
}

function lastLines(text: string, n = 3): string {
  return text.trim().split("\n").slice(-n).join(" | ");
}
export type { DemoApi };
