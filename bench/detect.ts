/**
 * `npm run bench -- detect [--cause cpu|index] [--interval 2] [--steady 90] [--degraded 30]
 *                          [--scale 1] [--clients 2] [--threads 1]`
 *
 * How fast do pg2une's detectors notice a real degradation, and how often do they cry wolf?
 * A real cluster runs pgbench (TPC-B-like) throughout; pg2une samples it with collectSample +
 * derive every `interval` seconds, exactly as production does. After `steady` samples a real
 * cause is injected:
 *
 *   cpu    two runaway sessions start a CPU-bound PL/pgSQL loop (a report query gone wrong,
 *          competing with the OLTP load for the server's CPUs)
 *   index  the primary key of pgbench_accounts is dropped (every lookup becomes a scan)
 *
 * The detectors then run online: at every sample t, detect() sees only history[0..t], as the cron
 * loop does. A detector "signals" at t when
 *   CUSUM        metric_degraded(tps) holds (S > h; the reference is the first 60 valid points)
 *   E-Divisive   otava_change_point(tps, M) holds (a recent, degrading change point with
 *                p ≤ 0.01 and magnitude > 0.10, as the confidence score counts it)
 *   reference    a naive Shewhart threshold: tps < mean − 3·sd of the same 60 reference points
 *                (plain mean and sample sd, no robustness, no accumulation)
 * Delay = samples from the first window that contains the injection to the first signal (0 =
 * that very window; a detector already signalling then also scores 0, and a row says so). False
 * alarms = signal episodes (rising edges) in the steady part after the reference window. The machine is shared: other people's load moves tps too, so a steady-part
 * "false alarm" may be a real external change; the table says what the detectors saw.
 *
 * Targets: each detector signals within 10 samples of the injection; at most one false alarm.
 */
import { loadavg } from "node:os";
import pg from "pg";
import { DEFAULT_DETECT_CONFIG, detect, detectionInputOf, detectionWindowOf, type DetectConfig, type DetectionWindow } from "../src/core/detect";
import { derive, type RawSample } from "../src/core/metrics";
import { collectSample } from "../runner/metrics/collect";
import { sleep } from "../runner/postgres/cluster";
import { pgbenchInit, startPgbench } from "../test/support/pgbench";
import { startTestCluster, type TestCluster } from "../test/support/postgres";
import { checkTool } from "../test/support/tools";
import { printInputs, printSideBySide, type SideBySideRow } from "./table";

const MAX_DELAY = 10;
const MAX_FALSE_ALARMS = 1;
const RUNAWAY_SESSIONS = 2;

type Cause = "cpu" | "index";

interface Options {
  cause: Cause;
  interval: number;
  steady: number;
  degraded: number;
  scale: number;
  clients: number;
  threads: number;
}

function parseOptions(args: string[]): Options {
  const get = (name: string, fallback: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
  };
  const num = (name: string, fallback: number, integer = true) => {
    const v = Number(get(name, String(fallback)));
    if (!(v > 0) || (integer && !Number.isInteger(v))) throw new Error(`--${name} must be a positive ${integer ? "whole " : ""}number`);
    return v;
  };
  const cause = get("cause", "cpu");
  if (cause !== "cpu" && cause !== "index") throw new Error("--cause must be cpu or index");
  const opts = {
    cause,
    interval: num("interval", 2, false),
    steady: num("steady", 90),
    degraded: num("degraded", 30),
    scale: num("scale", 1),
    clients: num("clients", 2),
    threads: num("threads", 1),
  } satisfies Options;
  const reference = DEFAULT_DETECT_CONFIG.cusum.referenceSize;
  if (opts.steady <= reference + 1) throw new Error(`--steady must exceed ${reference + 1}: CUSUM learns its baseline from the first ${reference} windows`);
  return opts;
}

/** The injected cause; `stop()` undoes what can be undone (sessions end; a dropped index stays). */
async function inject(cluster: TestCluster, url: string, cause: Cause, remainingMs: number): Promise<{ stop(): Promise<void> }> {
  if (cause === "index") {
    await cluster.query("alter table pgbench_accounts drop constraint pgbench_accounts_pkey", [], "bench");
    return { stop: async () => undefined };
  }
  const sessions: pg.Client[] = [];
  for (let i = 0; i < RUNAWAY_SESSIONS; i++) {
    const c = new pg.Client({ connectionString: url, application_name: "pg2une-bench-runaway" });
    c.on("error", () => undefined);
    await c.connect();
    // The server ends it on its own should this process die.
    await c.query(`set statement_timeout = ${Math.ceil(remainingMs + 30_000)}`);
    c.query("do $$ begin loop perform sqrt(random()); end loop; end $$").catch(() => undefined);
    sessions.push(c);
  }
  return {
    async stop() {
      await cluster.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'pg2une-bench-runaway'");
      await Promise.all(sessions.map((c) => c.end().catch(() => undefined)));
    },
  };
}

interface Signals {
  cusum: boolean[];
  edivisive: boolean[];
  naive: boolean[];
}

/** Online evaluation: at each t, detect() over windows[0..t] only. */
function evaluateOnline(windows: readonly DetectionWindow[], config: DetectConfig): Signals {
  const signals: Signals = { cusum: [], edivisive: [], naive: [] };
  const tps = windows.map((w) => (typeof w.snapshot.tps === "number" ? w.snapshot.tps : null));
  const reference = tps.filter((v): v is number => v !== null).slice(0, config.cusum.referenceSize);
  const mean = reference.reduce((s, v) => s + v, 0) / reference.length;
  const sd = Math.sqrt(reference.reduce((s, v) => s + (v - mean) ** 2, 0) / (reference.length - 1));
  for (let t = 0; t < windows.length; t++) {
    const report = detect(detectionInputOf(windows.slice(0, t + 1)), config);
    signals.cusum.push(report.facts.some((f) => f.pred === "metric_degraded" && f.args[0] === "tps"));
    signals.edivisive.push(report.facts.some((f) => f.pred === "otava_change_point" && f.args[0] === "tps"));
    const v = tps[t];
    signals.naive.push(reference.length === config.cusum.referenceSize && v !== null && v !== undefined && v < mean - 3 * sd);
  }
  return signals;
}

function episodes(flags: readonly boolean[], from: number, to: number): number {
  let count = 0;
  for (let t = from; t < to; t++) if (flags[t] && !(t > from && flags[t - 1])) count++;
  return count;
}

function firstFrom(flags: readonly boolean[], from: number): number | null {
  for (let t = from; t < flags.length; t++) if (flags[t]) return t;
  return null;
}

export default async function detectBench(args: string[]): Promise<boolean> {
  const opts = parseOptions(args);
  const pgbench = checkTool("pgbench", "Debian: apt-get install postgresql-client-15");
  if (!pgbench.ok) throw new Error(pgbench.why);
  const total = opts.steady + opts.degraded;
  const config: DetectConfig = { ...DEFAULT_DETECT_CONFIG, changePoints: { ...DEFAULT_DETECT_CONFIG.changePoints, metrics: ["tps"] } };
  const cusumTps = config.cusum.metrics.find((m) => m.metric === "tps")!;
  printInputs("detect: CUSUM and E-Divisive on real pgbench data with a degradation injected mid-run", {
    cluster: "PostgreSQL from findPostgresBinaries(), fsync off, pg_stat_statements preloaded, database bench",
    pgbench: `TPC-B-like, -c ${opts.clients} -j ${opts.threads}, scale ${opts.scale}, running throughout`,
    sampling: `collectSample + derive every ${opts.interval} s; ${opts.steady} steady windows, then ${opts.degraded} degraded`,
    cause:
      opts.cause === "cpu"
        ? `${RUNAWAY_SESSIONS} runaway sessions with a CPU-bound PL/pgSQL loop from window ${opts.steady} on`
        : `pgbench_accounts' primary key dropped at window ${opts.steady}`,
    cusum: `tps down, k=${cusumTps.k} h=${cusumTps.h}, robust reference of the first ${config.cusum.referenceSize} valid windows, σ floor ${cusumTps.sigmaFloor.relative * 100} % of the median`,
    "e-divisive": `tps, α=${config.changePoints.alpha}, p ≤ ${config.changePoints.significance} (${config.changePoints.permutations} permutations), min segment ${config.changePoints.minSize}, counts if recent (newest ${config.changePoints.recentPoints}), degrading and magnitude > ${config.changePoints.minMagnitude}`,
    reference: "naive threshold: tps < mean − 3·sd of the same reference windows (not an oracle)",
    evaluation: "online: at each window t the detectors see windows 0..t only",
    machine: `2 cores shared with other engineers' work; load average at start ${loadavg().map((l) => l.toFixed(2)).join(" ")}`,
  });

  const cluster = await startTestCluster();
  let stopCause: (() => Promise<void>) | undefined;
  const run = { stop: async () => undefined } as { stop(): Promise<void> };
  try {
    await cluster.query("create database bench");
    await cluster.query("create extension if not exists pg_stat_statements", [], "bench");
    const url = cluster.url("bench");
    pgbenchInit(url, opts.scale);
    await cluster.query("vacuum analyze", [], "bench");
    const collector = new pg.Client({ connectionString: url, application_name: "pg2une-bench-collector" });
    await collector.connect();
    const bench = startPgbench(url, { clients: opts.clients, threads: opts.threads, seconds: Math.ceil((total + 3) * opts.interval) + 10 });
    run.stop = () => bench.stop();
    try {
      await sleep(1_000);
      const samples: RawSample[] = [await collectSample(collector, { target: "bench" })];
      const start = Date.now();
      let injectedAt: number | null = null;
      for (let i = 1; i <= total; i++) {
        if (i === opts.steady + 1 && injectedAt === null) {
          // Mid-window: the window that ends next is the first one that contains the cause.
          await sleep(Math.max(0, start + (i - 0.5) * opts.interval * 1000 - Date.now()));
          const injection = await inject(cluster, url, opts.cause, (total - i + 2) * opts.interval * 1000);
          stopCause = () => injection.stop();
          injectedAt = Date.now();
        }
        await sleep(Math.max(0, start + i * opts.interval * 1000 - Date.now()));
        samples.push(await collectSample(collector, { target: "bench" }));
      }
      const windows = samples.slice(1).map((s, i) => detectionWindowOf(derive(samples[i]!, s)));
      const firstDegraded = windows.findIndex((w) => Date.parse(w.snapshot.snapshot_time) > injectedAt!);
      const steadyFrom = config.cusum.referenceSize + 1; // the first sample has no rates; then the reference
      const started = Date.now();
      const signals = evaluateOnline(windows, config);
      const evalMs = Date.now() - started;

      const tpsOf = (from: number, to: number) => {
        const v = windows.slice(from, to).map((w) => w.snapshot.tps).filter((x): x is number => typeof x === "number");
        return v.reduce((s, x) => s + x, 0) / Math.max(v.length, 1);
      };
      console.log(
        `tps: steady mean ${tpsOf(0, firstDegraded).toFixed(1)}, degraded mean ${tpsOf(firstDegraded + 1, windows.length).toFixed(1)} ` +
          `(${((tpsOf(firstDegraded + 1, windows.length) / tpsOf(0, firstDegraded) - 1) * 100).toFixed(1)} %); first degraded window ${firstDegraded}; ` +
          `online evaluation of ${windows.length} windows took ${evalMs} ms`,
      );
      console.log(`tps per window: ${windows.map((w) => (typeof w.snapshot.tps === "number" ? w.snapshot.tps.toFixed(0) : "—")).join(" ")}\n`);
      const line = (flags: boolean[]) => flags.map((f, t) => (t === firstDegraded ? "|" : "") + (f ? "x" : ".")).join("");
      console.log(`signals (x) per window, | = injection:\n  CUSUM      ${line(signals.cusum)}\n  E-Divisive ${line(signals.edivisive)}\n  naive 3σ   ${line(signals.naive)}\n`);

      const delay = (flags: boolean[]) => {
        const t = firstFrom(flags, firstDegraded);
        return t === null ? null : t - firstDegraded;
      };
      const detectors = [signals.cusum, signals.edivisive, signals.naive];
      const judged = (values: Array<number | null>, ok: (v: number | null) => boolean) => values.slice(0, 2).every(ok);
      const delays = detectors.map(delay);
      const falseAlarms = detectors.map((flags) => episodes(flags, steadyFrom, firstDegraded));
      const rows: SideBySideRow[] = [
        {
          metric: "detection delay (samples)",
          values: delays,
          target: `≤ ${MAX_DELAY}`,
          pass: judged(delays, (d) => d !== null && d <= MAX_DELAY),
        },
        { metric: "detection delay (s)", values: delays.map((d) => (d === null ? null : d * opts.interval)) },
        { metric: "already signalling at the injection (1 = yes)", values: detectors.map((flags) => (flags[firstDegraded - 1] ? 1 : 0)) },
        {
          metric: `false alarms in ${firstDegraded - steadyFrom} steady samples`,
          values: falseAlarms,
          target: `≤ ${MAX_FALSE_ALARMS}`,
          pass: judged(falseAlarms, (f) => f !== null && f <= MAX_FALSE_ALARMS),
        },
        { metric: `degraded samples signalled (of ${windows.length - firstDegraded})`, values: detectors.map((flags) => flags.slice(firstDegraded).filter(Boolean).length) },
      ];
      printSideBySide(["CUSUM", "E-Divisive", "naive 3σ (reference)"], rows);
      console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(" ")} (2 shared cores)\n`);
      return rows.every((r) => r.pass !== false);
    } finally {
      await collector.end().catch(() => undefined);
    }
  } finally {
    await stopCause?.().catch(() => undefined);
    await run.stop();
    await cluster.destroy();
  }
}
