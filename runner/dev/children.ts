/**
 * Child processes of the dev stack, each in its own process group: the terminal's Ctrl-C then
 * reaches only `pg2une dev`, which stops them in order, and stopping a child signals its whole
 * group — wrangler runs workerd as a grandchild, which must not outlive it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { DevOutput } from "./output";
import { pidAlive } from "../os/pid";

export interface ManagedChild {
  name: string;
  pid: number;
  readonly exited: boolean;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exit: Promise<number | string>;
  /** Signal the process group, wait up to `graceMs`, then SIGKILL the group. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface SpawnChildOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  output: DevOutput;
}

export const DEFAULT_STOP_GRACE_MS = 10_000;

export function spawnChild(opts: SpawnChildOptions): ManagedChild {
  const child: ChildProcess = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  if (child.pid === undefined) {
    throw new Error(`could not start ${opts.name} (${opts.command})`);
  }
  const pid = child.pid;
  opts.output.pipe(opts.name, child.stdout!, "stdout");
  opts.output.pipe(opts.name, child.stderr!, "stderr");
  let exited = false;
  const exit = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = true;
      resolve(code ?? signal ?? "unknown");
    });
  });
  child.once("error", (err) => opts.output.line(opts.name, `process error: ${err.message}`, "stderr"));
  return {
    name: opts.name,
    pid,
    get exited() {
      return exited;
    },
    exit,
    async stop(signal = "SIGTERM", graceMs = DEFAULT_STOP_GRACE_MS) {
      await stopProcessGroup(pid, signal, graceMs, () => exited);
    },
  };
}

/** True while any process of group `pgid` exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Signal every process in group `pgid`; wait until the whole group is gone (not only its
 * leader: workerd may linger after wrangler), escalating to SIGKILL after `graceMs`.
 */
export async function stopProcessGroup(pgid: number, signal: NodeJS.Signals, graceMs: number, leaderExited: () => boolean = () => !pidAlive(pgid)): Promise<void> {
  const send = (s: NodeJS.Signals) => {
    try {
      process.kill(-pgid, s);
    } catch {
      // group already gone
    }
  };
  if (!groupAlive(pgid) && leaderExited()) return;
  send(signal);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pgid) && leaderExited()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  send("SIGKILL");
  const killDeadline = Date.now() + 5_000;
  while (Date.now() < killDeadline && (groupAlive(pgid) || !leaderExited())) await new Promise((r) => setTimeout(r, 50));
}
