/**
 * Follow a log file from its current end (PostgreSQL writes its log to a file; the dev stack
 * shows new lines with a `[postgres]` prefix). Polling keeps it portable and cheap.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";

const POLL_MS = 500;
const CHUNK = 64 * 1024;

export interface Tail {
  /** Read what is left, then stop. */
  stop(): void;
}

export function tailFile(path: string, onLine: (line: string) => void): Tail {
  let offset = safeSize(path);
  let partial = "";
  const readNew = () => {
    const size = safeSize(path);
    if (size < offset) offset = 0; // truncated or replaced
    if (size === offset) return;
    const fd = openSync(path, "r");
    try {
      const buf = Buffer.alloc(CHUNK);
      while (offset < size) {
        const n = readSync(fd, buf, 0, Math.min(CHUNK, size - offset), offset);
        if (n <= 0) break;
        offset += n;
        partial += buf.subarray(0, n).toString("utf8");
      }
    } finally {
      closeSync(fd);
    }
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (line) onLine(line);
  };
  const timer = setInterval(readNew, POLL_MS);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      readNew();
      if (partial) onLine(partial);
    },
  };
}

function safeSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
