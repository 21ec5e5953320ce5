/**
 * The dev stack's terminal: every line says who wrote it (`[wrangler] …`, `[runner] …`), so the
 * interleaved output of five processes stays readable.
 */
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

export const NAME_WIDTH = 9;

export interface DevOutput {
  /** A line from `name` to stdout (or stderr). */
  line(name: string, text: string, stream?: "stdout" | "stderr"): void;
  /** Pipe a child's stream through, one prefixed line at a time. */
  pipe(name: string, input: Readable, stream?: "stdout" | "stderr"): void;
}

export function prefixed(name: string, text: string): string {
  return `[${name}]`.padEnd(NAME_WIDTH + 3) + text;
}

/**
 * Lines the demo leaves out of the terminal so its story stays readable: per-tick routine that
 * repeats every few seconds (a successful cron call, a runner's command_done, the Worker's
 * cron_tick report, PgBouncer's per-connection lines). Warnings and errors always show.
 */
export const ROUTINE_LINES: Record<string, RegExp> = {
  cron: /→ 2\d\d$/,
  runner: /"level":"info","event":"command_done"/,
  wrangler: /"event":"cron_tick"|^\[wrangler:info\] (GET|POST) \/|^\s*$/,
  pgbouncer: / LOG (C|S)-0x[0-9a-f]+: .*(login attempt|closing because|new connection to server)| LOG stats: /,
};

export function isRoutine(name: string, text: string): boolean {
  return ROUTINE_LINES[name]?.test(text) ?? false;
}

export function devOutput(stdout: Writable = process.stdout, stderr: Writable = process.stderr, opts: { hideRoutine?: boolean } = {}): DevOutput {
  const write = (name: string, text: string, stream: "stdout" | "stderr" = "stdout") => {
    if (opts.hideRoutine && isRoutine(name, text)) return;
    (stream === "stderr" ? stderr : stdout).write(`${prefixed(name, text)}\n`);
  };
  return {
    line: write,
    pipe(name, input, stream = "stdout") {
      createInterface({ input, crlfDelay: Infinity }).on("line", (text) => write(name, text, stream));
    },
  };
}
