/**
 * A small JSON document in the runner's state dir, validated with zod on every read and
 * replaced durably on every write (./durable-file), so a crash never leaves a half-written
 * file that the next start would misread.
 *
 * @example
 *   const store = jsonState(join(stateDir, "rollout.json"), RolloutStateSchema);
 *   const state = store.read(); // undefined when absent
 *   await store.write({ ...state, routing });
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { z } from "zod";
import { writeFileDurably } from "./durable-file";

export interface JsonState<T> {
  readonly path: string;
  read(): T | undefined;
  write(value: T): Promise<void>;
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
    async write(value) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      await writeFileDurably(path, `${JSON.stringify(value, null, 2)}\n`);
    },
    remove() {
      rmSync(path, { force: true });
    },
  };
}
