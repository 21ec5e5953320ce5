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

export function devOutput(stdout: Writable = process.stdout, stderr: Writable = process.stderr): DevOutput {
  const write = (name: string, text: string, stream: "stdout" | "stderr" = "stdout") =>
    (stream === "stderr" ? stderr : stdout).write(`${prefixed(name, text)}\n`);
  return {
    line: write,
    pipe(name, input, stream = "stdout") {
      createInterface({ input, crlfDelay: Infinity }).on("line", (text) => write(name, text, stream));
    },
  };
}
