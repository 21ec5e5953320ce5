/**
 * The runner as a real child process (`node runner/bin/pg2une.js runner`), for tests that need
 * the real thing: its own port, a temp state dir (or a given one), the target URL and keys.
 * Stopped by PID (SIGTERM, then SIGKILL), restartable on the same state dir and port, and killed
 * as a last resort when the test process exits.
 *
 * @example
 *   const runner = await startRunnerProcess({ targetUrl: cluster.url(), keys: TEST_RUNNER_KEYS });
 *   await fetch(`${runner.url}/healthz`);
 *   await runner.restart();   // same state dir, same port
 *   await runner.destroy();
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../runner/net/ports";

const BIN = fileURLToPath(new URL("../../runner/bin/pg2une.js", import.meta.url));
export const RUNNER_READY_TIMEOUT_MS = 30_000;
export const RUNNER_STOP_GRACE_MS = 5_000;
/** Env the runner reads; scrubbed from the parent's env so a developer's shell cannot leak in. */
const RUNNER_ENV = ["TARGET_POSTGRES_URL", "PG2UNE_RUNNER_KEYS", "PG2UNE_RUNNER_HOST", "PG2UNE_RUNNER_PORT", "PG2UNE_RUNNER_STATE_DIR", "PG2UNE_RUNNER_ALLOW_KNOBS", "PG2UNE_RUNNER_COMMAND_TIMEOUT_MS",
  "PG2UNE_CANARY_BACKEND", "PG2UNE_CANARY_HOST", "PG2UNE_CANARY_DIR", "PG2UNE_PGBOUNCER_DIR", "PG2UNE_PGBOUNCER_LISTEN",
  "MXC_COORDINATOR", "MXC_API_TOKEN", "PG2UNE_MXC_ARCH"];

export interface RunnerProcessOptions {
  keys: string;
  targetUrl?: string;
  /** Default: a new temp dir, removed by destroy(). */
  stateDir?: string;
  host?: string;
  port?: number;
  /** Extra env, e.g. PG2UNE_RUNNER_COMMAND_TIMEOUT_MS. */
  env?: Record<string, string>;
}

export interface RunnerProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly stateDir: string;
  /** Everything the runner logged on stderr (JSON lines) since it was first started. */
  logs(): string;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, no clean shutdown. */
  kill(): Promise<void>;
  /** Stop (if running) and start again on the same state dir and port. */
  restart(): Promise<void>;
  /** Stop and remove the state dir when it was ours. */
  destroy(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export async function startRunnerProcess(opts: RunnerProcessOptions): Promise<RunnerProcess> {
  const ownStateDir = opts.stateDir === undefined;
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), "pg2une-runner-"));
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? (await freePort(host));
  const url = `http://${host}:${port}`;
  let output = "";
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function launch(): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of RUNNER_ENV) delete env[name];
    Object.assign(env, { PG2UNE_RUNNER_KEYS: opts.keys, ...(opts.targetUrl ? { TARGET_POSTGRES_URL: opts.targetUrl } : {}), ...opts.env });
    const proc = spawn(process.execPath, [BIN, "runner", "--host", host, "--port", String(port), "--state-dir", stateDir], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    live.add(proc);
    let gone = false;
    exited = new Promise((resolve) =>
      proc.once("exit", () => {
        gone = true;
        live.delete(proc);
        resolve();
      }),
    );
    proc.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    proc.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + RUNNER_READY_TIMEOUT_MS;
    for (;;) {
      if (gone) throw new Error(`runner exited with code ${proc.exitCode} while starting:\n${output}`);
      try {
        const res = await fetch(`${url}/healthz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`runner did not answer /healthz within ${RUNNER_READY_TIMEOUT_MS} ms:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function stopWith(signal: NodeJS.Signals): Promise<void> {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), RUNNER_STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  await launch();
  return {
    url,
    port,
    get pid() {
      return child?.pid ?? -1;
    },
    stateDir,
    logs: () => output,
    stop: () => stopWith("SIGTERM"),
    kill: () => stopWith("SIGKILL"),
    async restart() {
      await stopWith("SIGTERM");
      await launch();
    },
    async destroy() {
      await stopWith("SIGTERM");
      if (ownStateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
