/**
 * A `pg2une dev` killed hard (SIGKILL, a closed terminal, a crash) cannot stop its children,
 * which run in their own process groups. So the stack records itself and each child in
 * <dir>/dev.json, and the next start:
 *   - refuses to run beside a live stack on the same dir,
 *   - stops children left behind (only if the PID still runs the same command line — PIDs get
 *     reused),
 *   - stops a postmaster left on the data dir, or removes a postmaster.pid whose PID now belongs
 *     to some other process (PostgreSQL would refuse to start over it).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { pidAlive } from "../os/pid";
import { stopProcessGroup } from "./children";

const StateSchema = z.object({
  pid: z.number().int(),
  args: z.string(),
  children: z.array(z.object({ name: z.string(), pid: z.number().int(), args: z.string() })),
});
type State = z.output<typeof StateSchema>;

/** Children that are postmasters: stopped through their data dir (clearStalePostmaster), not their group. */
const POSTMASTER_CHILDREN = ["postgres", "pg2une-db"];

const LEFTOVER_STOP_GRACE_MS = 10_000;
const POSTMASTER_STOP_GRACE_MS = 30_000;

/** The command line of a live process, or undefined. */
export function processArgs(pid: number): string | undefined {
  try {
    const out = execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}

export class StackAlreadyRunning extends Error {
  override name = "StackAlreadyRunning";
}

export interface StateFile {
  addChild(name: string, pid: number): void;
  remove(): void;
}

function read(path: string): State | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return StateSchema.parse(JSON.parse(readFileSync(path, "utf8")));
  } catch {
    return undefined;
  }
}

/**
 * Clean up after a previous run on this dir, then claim it. `say` reports what was cleaned.
 * Throws StackAlreadyRunning when another live `pg2une dev` owns the dir.
 */
export async function recoverAndClaim(stateFile: string, pgData: string | string[], say: (msg: string) => void): Promise<StateFile> {
  const previous = read(stateFile);
  if (previous && previous.pid !== process.pid) {
    const args = processArgs(previous.pid);
    if (args !== undefined && args === previous.args) {
      throw new StackAlreadyRunning(`another pg2une dev (pid ${previous.pid}) is running on ${stateFile.replace(/\/dev\.json$/, "")}; stop it first (Ctrl-C or kill ${previous.pid})`);
    }
    // PostgreSQL is left to clearStalePostmaster (fast shutdown of the postmaster alone, last).
    for (const child of previous.children.filter((c) => !POSTMASTER_CHILDREN.includes(c.name))) {
      if (processArgs(child.pid) !== child.args) continue;
      say(`stopping ${child.name} (pid ${child.pid}) left running by an earlier pg2une dev`);
      await stopProcessGroup(child.pid, "SIGTERM", LEFTOVER_STOP_GRACE_MS);
    }
  }
  for (const dir of Array.isArray(pgData) ? pgData : [pgData]) await clearStalePostmaster(dir, say);
  const state: State = { pid: process.pid, args: processArgs(process.pid) ?? "", children: [] };
  const save = () => writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  save();
  return {
    addChild(name, pid) {
      state.children.push({ name, pid, args: processArgs(pid) ?? "" });
      save();
    },
    remove() {
      rmSync(stateFile, { force: true });
    },
  };
}

/** Handles postmaster.pid from an unclean stop; see the module comment. */
export async function clearStalePostmaster(pgData: string, say: (msg: string) => void): Promise<void> {
  const pidFile = join(pgData, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return; // PostgreSQL itself ignores a dead PID
  const args = processArgs(pid) ?? "";
  if (/postgres/.test(args) && args.includes(pgData)) {
    say(`stopping PostgreSQL (pid ${pid}) left running on ${pgData} by an earlier pg2une dev`);
    signal(pid, "SIGINT"); // fast shutdown
    const deadline = Date.now() + POSTMASTER_STOP_GRACE_MS;
    while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (pidAlive(pid)) {
      signal(pid, "SIGQUIT");
      await new Promise((r) => setTimeout(r, 2_000));
    }
    if (pidAlive(pid)) throw new Error(`PostgreSQL (pid ${pid}) on ${pgData} does not stop; stop it by hand`);
    return;
  }
  say(`removing stale ${pidFile} (pid ${pid} is now "${args.slice(0, 60)}", not PostgreSQL)`);
  rmSync(pidFile, { force: true });
}

function signal(pid: number, s: NodeJS.Signals) {
  try {
    process.kill(pid, s);
  } catch {
    // gone already
  }
}
