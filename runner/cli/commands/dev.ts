/**
 * `pg2une dev` (= `npm start`): the whole local stack — PostgreSQL with pg2une's database, the
 * WebSocket→TCP bridge, the runner, PgBouncer when installed, and the Worker under
 * `wrangler dev` with the cron firing. Ctrl-C or SIGTERM stops every child; a second signal
 * kills what is left at once.
 */
import { z } from "zod";
import { stopProcessGroup } from "../../dev/children";
import { DEV_DEFAULTS, DEV_ENV, DevOptionsError, resolveDevOptions } from "../../dev/options";
import { startDemo, DEMO_DETECTION_WINDOWS, DEMO_TIMELINE, type RunningDemo } from "../../dev/demo/demo";
import { JIT_DEGRADATION, SEQSCAN_DEGRADATION } from "../../dev/demo/degradation";
import { DEMO_WORKLOAD, PgbenchMissingError, requirePgbench } from "../../dev/demo/workload";
import { devOutput } from "../../dev/output";
import { DEMO_ROLLOUT_TIMINGS, DEV_ROLLOUT_TIMINGS } from "../../dev/timings";
import { DevStackAborted, startDevStack, type DevStack, type DevStackInfo } from "../../dev/stack";
import { CliError, parseCommandArgs } from "../io";

export const USAGE = `Usage: pg2une dev [options]        (npm start)

Runs PostgreSQL (the target), pg2une's history database, the WebSocket bridge, the runner,
PgBouncer (when installed; the runner owns its ini for canary routing) and the Worker
(wrangler dev, the cron trigger every --cron-interval seconds) on 127.0.0.1.

  --demo                ${DEV_ENV.demo.padEnd(27)} off
        Also drive a built-in pgbench workload through PgBouncer (needs pgbench), let pg2une
        learn its baseline (CUSUM reference ${DEMO_DETECTION_WINDOWS.cusumReferenceSize} ticks + ${DEMO_TIMELINE.steadyTicks} watched), then inject a real
        degradation (ALTER SYSTEM SET ${JIT_DEGRADATION.name}, or ${SEQSCAN_DEGRADATION.name} without LLVM JIT) and narrate
        what pg2une detects, decides and rolls out. About 6 minutes from start to outcome.
        Defaults change: --cron-interval ${DEV_DEFAULTS.demoCronIntervalS}, --dir ${DEV_DEFAULTS.demoDir}, shorter rollout windows.

Options (flag, env, default):
  --dir DIR             ${DEV_ENV.dir.padEnd(27)} ${DEV_DEFAULTS.dir}  (state: data dirs, token, keys)
  --api-port N          ${DEV_ENV.apiPort.padEnd(27)} ${DEV_DEFAULTS.apiPort}
  --runner-port N       ${DEV_ENV.runnerPort.padEnd(27)} ${DEV_DEFAULTS.runnerPort}
  --pg-port N           ${DEV_ENV.pgPort.padEnd(27)} ${DEV_DEFAULTS.pgPort}
  --pgbouncer-port N    ${DEV_ENV.pgbouncerPort.padEnd(27)} ${DEV_DEFAULTS.pgbouncerPort}
  --bridge-port N       ${DEV_ENV.bridgePort.padEnd(27)} ${DEV_DEFAULTS.bridgePort}
  --db-port N           ${DEV_ENV.dbPort.padEnd(27)} ${DEV_DEFAULTS.dbPort}  (pg2une's history database)
  --cron-interval S     ${DEV_ENV.cronIntervalS.padEnd(27)} ${DEV_DEFAULTS.cronIntervalS}  (seconds between cron ticks; 0 = no cron; --demo: ${DEV_DEFAULTS.demoCronIntervalS})
  --no-pgbouncer        ${`${DEV_ENV.pgbouncer}=0`.padEnd(27)} (PgBouncer starts when installed)
  --rollout-timings J   ${DEV_ENV.rolloutTimings.padEnd(27)} (JSON over the timings below, e.g. '{"canaryStepMs": 60000}')
Also read: PG2UNE_API_TOKEN (else generated once into <dir>/api-token),
PG2UNE_RUNNER_KEYS (else generated once into <dir>/runner-keys), PG_BIN (PostgreSQL bin dir).
The Worker gets rollout windows for one machine (ROLLOUT_TIMINGS): ${JSON.stringify(DEV_ROLLOUT_TIMINGS)}.`;

const FLAGS = {
  dir: { type: "string" },
  "api-port": { type: "string" },
  "runner-port": { type: "string" },
  "pg-port": { type: "string" },
  "pgbouncer-port": { type: "string" },
  "bridge-port": { type: "string" },
  "db-port": { type: "string" },
  "cron-interval": { type: "string" },
  "no-pgbouncer": { type: "boolean" },
  demo: { type: "boolean" },
  "rollout-timings": { type: "string" },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    FLAGS,
    z.object({
      dir: z.string().optional(),
      "api-port": z.string().optional(),
      "runner-port": z.string().optional(),
      "pg-port": z.string().optional(),
      "pgbouncer-port": z.string().optional(),
      "bridge-port": z.string().optional(),
      "db-port": z.string().optional(),
      "cron-interval": z.string().optional(),
      "no-pgbouncer": z.boolean().optional(),
      demo: z.boolean().optional(),
      "rollout-timings": z.string().optional(),
      positionals: z.array(z.string()).max(0, "takes no positional arguments"),
    }),
    USAGE,
  );
  let options;
  try {
    options = resolveDevOptions({
      dir: values.dir,
      apiPort: values["api-port"],
      runnerPort: values["runner-port"],
      pgPort: values["pg-port"],
      pgbouncerPort: values["pgbouncer-port"],
      bridgePort: values["bridge-port"],
      dbPort: values["db-port"],
      cronIntervalS: values["cron-interval"],
      pgbouncer: values["no-pgbouncer"] ? false : undefined,
      demo: values.demo,
      rolloutTimings: values["rollout-timings"],
    });
  } catch (err) {
    if (err instanceof DevOptionsError) throw new CliError(err.message);
    throw err;
  }
  // Before anything starts: the demo cannot run without its load generator.
  let pgbench: string | undefined;
  try {
    if (options.demo) pgbench = requirePgbench();
  } catch (err) {
    if (err instanceof PgbenchMissingError) throw new CliError(`--demo: ${err.message}`);
    throw err;
  }

  // A closed terminal makes writes fail (EPIPE/EIO); that must not crash us before we stop the children.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
  // The demo's story is the point: routine per-tick lines stay out of the way (warnings still show).
  const output = devOutput(process.stdout, process.stderr, { hideRoutine: options.demo });
  const aborter = new AbortController();
  let stack: DevStack | undefined;
  let demo: RunningDemo | undefined;
  let signals = 0;
  let onSignal: (signal: string) => void = () => undefined;
  const stopRequested = new Promise<string>((resolve) => {
    onSignal = resolve;
  });
  const handler = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals === 1) {
      output.line("dev", `${signal}: stopping everything…`);
      aborter.abort();
      onSignal(signal);
      return;
    }
    output.line("dev", `${signal} again: killing what is left`, "stderr");
    void forceKill(stack?.info).finally(() => process.exit(1));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  process.on("SIGHUP", handler);
  const orphanWatch = watchParent(() => {
    output.line("dev", "parent process is gone (terminal closed or npm killed): stopping everything…", "stderr");
    handler("SIGHUP");
  });

  try {
    try {
      stack = await startDevStack(options, output, aborter.signal, {
        rolloutTimings: { ...(options.demo ? DEMO_ROLLOUT_TIMINGS : DEV_ROLLOUT_TIMINGS), ...options.rolloutTimings },
        ...(options.demo ? { detectionWindows: DEMO_DETECTION_WINDOWS } : {}),
      });
    } catch (err) {
      if (err instanceof DevStackAborted) {
        output.line("dev", "stopped");
        return 130;
      }
      throw new CliError((err as Error).message, 1);
    }
    printSummary(stack.info, options.cronIntervalS);
    if (pgbench) {
      output.line("demo", `pg2une demo: workload ${DEMO_WORKLOAD.rate} tps through PgBouncer, cron every ${options.cronIntervalS} s, degradation once detection has its baseline (~${Math.round(((DEMO_DETECTION_WINDOWS.cusumReferenceSize + DEMO_TIMELINE.steadyTicks) * options.cronIntervalS) / 60)} min)`);
      try {
        demo = await startDemo(stack.info, output, options.cronIntervalS, pgbench);
      } catch (err) {
        output.line("demo", `could not start the demo: ${(err as Error).message}`, "stderr");
        await stack.stop();
        output.line("dev", "stopped; nothing left running");
        return 1;
      }
    }
    const why = await Promise.race([stopRequested.then((s) => ({ signal: s })), stack.failed.then((name) => ({ failed: name }))]);
    if ("failed" in why) output.line("dev", `${why.failed} exited unexpectedly; stopping the rest`, "stderr");
    if (demo) {
      await demo.stop();
      output.line("demo", "workload stopped");
    }
    await stack.stop();
    output.line("dev", "stopped; nothing left running");
    return "failed" in why ? 1 : 0;
  } finally {
    clearInterval(orphanWatch);
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
    process.off("SIGHUP", handler);
  }
}

const PARENT_CHECK_MS = 1_000;

/**
 * Our children run in their own process groups, so if we are orphaned (the npm or shell above us
 * was killed) nobody else would stop them: notice and stop them ourselves.
 */
function watchParent(onGone: () => void): NodeJS.Timeout {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, PARENT_CHECK_MS);
  timer.unref();
  return timer;
}

function printSummary(info: DevStackInfo, cronIntervalS: number): void {
  const lines = [
    "",
    "pg2une dev is up",
    `  API         ${info.apiUrl}`,
    `  API token   ${info.apiToken}   (from ${info.apiTokenFrom})`,
    `  runner      ${info.runnerUrl}/healthz`,
    `  target      ${info.targetUrl}   (PostgreSQL ${info.postgres.major}, ${info.postgres.source})`,
    `  pg2une db   ${info.databaseUrl}`,
    ...(info.pgbouncerUrl ? [`  pgbouncer   ${info.pgbouncerUrl}`] : []),
    `  bridge      ${info.bridgeUrl}   (NEON_WS_PROXY for the Worker)`,
    `  cron        ${cronIntervalS > 0 ? `every ${cronIntervalS} s (--cron-interval)` : "off (--cron-interval 0)"}`,
    `  state       ${info.layout.root}`,
    `  pids        ${Object.entries(info.pids).map(([name, pid]) => `${name} ${pid}`).join(", ")}`,
    "",
    `  try: curl -s -H "authorization: Bearer ${info.apiToken}" ${info.apiUrl}/api/status`,
    "  Ctrl-C stops everything.",
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** Second signal: no more waiting. SIGKILL every process group we know of. */
async function forceKill(info: DevStackInfo | undefined): Promise<void> {
  if (!info) return;
  await Promise.all(
    Object.entries(info.pids)
      .filter(([name]) => name !== "pg2une dev")
      .map(([, pid]) => stopProcessGroup(pid, "SIGKILL", 1_000)),
  );
}
