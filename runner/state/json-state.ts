/**
 * A small JSON document in the runner's state dir, validated with zod on every read and
 * replaced atomically on every write (temp file + fsync + rename), so a crash never leaves a
 * half-written file that the next start would misread.
 *
 * @example
 *   const store = jsonState(join(stateDir, "canary.json"), CanaryStateSchema);
 *   const state = store.read(); // undefined when absent
 *   store.write({ ...state, canaryPct: 25 });
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { z } from "zod";

export interface JsonState<T> {
  readonly path: string;
  read(): T | undefined;
  write(value: T): void;
  remove(): void;
}

export function jsonState<S extends z.ZodType>(path: string, schema: S): JsonState<z.output<S>> {
  return {
    path,
    read() {
      if (!existsSync(path)) return undefined;
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(path, "utf8"));
      } catch (err) {
        throw new Error(`state file ${path} is not valid JSON (${(err as Error).message}); remove it if the state it held is gone`);
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new Error(`state file ${path} is invalid at ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
      }
      return parsed.data;
    },
    write(value) {
      writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
    },
    remove() {
      rmSync(path, { force: true });
    },
  };
}

/** Replace `path` with `content` atomically (same directory temp file, fsync, rename). */
export function writeFileAtomic(path: string, content: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fd = openSync(tmp, "w", mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
