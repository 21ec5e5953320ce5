/**
 * `pg2une dev --demo`: on top of the running stack, the whole loop on its own —
 *
 *   reset the demo target's settings, fresh pgbench tables, clear the demo target's metric history
 *   → workload through PgBouncer (./workload) → "baseline learning…" until detection has its
 *   reference (DEMO_TIMELINE.baselineSnapshots) → inject the degradation (./degradation)
 *   → narrate what /api/analysis detects, the run the cron loop starts, its steps and outcome.
 *
 * The demo decides nothing itself: detection, the decision and the run are pg2une's own (cron →
 * analysis → rules → Durable Object → runner). It only drives load, breaks one thing, and reads
 * the REST API.
 */
import { join } from "node:path";
import { runSql } from "../../postgres/sql";
import type { DevOutput } from "../output";
import type { DevStackInfo } from "../stack";
import { DEGRADATION, currentSetting, injectDegradation, resetDemoSettings } from "./degradation";
import { demoApi, describeDetection, describeOutcome, elapsed, fmt, type DemoApi, type DemoStatus } from "./narrator";
import { DEMO_WORKLOAD, initPgbenchTables, startDemoWorkload, writeDemoScripts, type DemoWorkload } from "./workload";

export const DEMO_TIMELINE = {
  /**
   * Inject once the history holds this many snapshots with rates: CUSUM's reference is the first
   * 60 (src/core/detect/config.ts, referenceSize), and a dozen more show it a steady present.
   */
  baselineSnapshots: 72,
  /** How often the narrator reports baseline progress, and polls analysis / status. */
  progressEveryMs: 30_000,
  analysisEveryMs: 10_000,
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
  await initPgbenchTables(pgbench, info.targetUrl, DEMO_WORKLOAD.scale);
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
    const learnS = Math.round((DEMO_TIMELINE.baselineSnapshots * cronIntervalS) / 60);
    say(
      `baseline learning… (${cleared} old snapshots of the demo target cleared) the cron ticks every ${cronIntervalS} s; ` +
        `the degradation comes after ${DEMO_TIMELINE.baselineSnapshots} snapshots (≈ ${learnS} min): CUSUM learns from the first 60`,
    );
    for (;;) {
      await sleep(DEMO_TIMELINE.progressEveryMs);
      if (stopped) return;
      const items = (await api.history(60).catch(() => [])).filter((s) => s.tps !== null);
      const last = items.at(-1);
      say(`baseline learning… ${items.length}/${DEMO_TIMELINE.baselineSnapshots} snapshots; latest tps ${fmt(last?.tps)}, p99 ${fmt(last?.latency_p99, 2)} ms`);
      if (items.length >= DEMO_TIMELINE.baselineSnapshots) break;
    }
    await injectDegradation(info.targetUrl);
    const injectedAt = Date.now();
    say(`injecting degradation: ALTER SYSTEM SET ${DEGRADATION.knob} = ${DEGRADATION.value}; SELECT pg_reload_conf() — ${DEGRADATION.why} (now ${await currentSetting(info.targetUrl)})`);

    let detected = false;
    let lastDecision = "";
    let lastAnalysis = 0;
    let known: DemoStatus["run"] = (await api.status().catch(() => null))?.run ?? null;
    let lastStep = "";
    for (;;) {
      await sleep(DEMO_TIMELINE.statusEveryMs);
      if (stopped) return;
      if (Date.now() - lastAnalysis >= DEMO_TIMELINE.analysisEveryMs) {
        lastAnalysis = Date.now();
        const analysis = await api.analysis().catch((err: Error) => (say(`GET /api/analysis failed: ${err.message}`, "stderr"), null));
        const line = analysis ? describeDetection(analysis) : null;
        if (line && !detected) {
          detected = true;
          say(`pg2une detected ${Math.round((Date.now() - injectedAt) / 1000)} s after the injection: ${line}`);
          lastDecision = analysis!.decision.summary;
        } else if (analysis && detected && analysis.decision.summary !== lastDecision) {
          lastDecision = analysis.decision.summary;
          say(`decision now: ${lastDecision}`);
        }
      }
      const status = await api.status().catch(() => null);
      const run = status?.run ?? null;
      if (!run) continue;
      if (run.id !== known?.id) {
        say(`run ${run.id} started (${run.action}, ${run.mode}${run.trigger ? `, trigger ${run.trigger}` : ""})`);
        lastStep = "";
      }
      if (run.step !== lastStep && !run.finishedAt) {
        say(`  step: ${run.step} [${run.phase}]`);
        lastStep = run.step;
      }
      if (run.finishedAt && (run.id !== known?.id || !known?.finishedAt)) {
        const full = await api.run(run.id).catch(() => null);
        if (full) {
          for (const e of full.events) say(`  ${e.kind} ${e.state}: ${e.message}`);
          say(`outcome of ${run.id}: ${describeOutcome(full)}; ${DEGRADATION.knob} is now ${await currentSetting(info.targetUrl)}`);
        } else {
          say(`outcome of ${run.id}: ${run.outcome}${run.reason ? ` — ${run.reason}` : ""}`);
        }
        say("the loop keeps watching (cron, analysis, rules); Ctrl-C stops the workload and everything else");
      }
      known = run;
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
