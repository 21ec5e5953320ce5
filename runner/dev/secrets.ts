/**
 * The dev stack's two secrets: the REST API token and the runner keys. Each comes from env when
 * set, else from a file in the state dir, else is generated once into that file (mode 0600) so
 * the next `npm start` keeps the same token.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { WorkerConfigSchema } from "../../src/config";

const API_TOKEN_BYTES = 32;
const RUNNER_SECRET_BYTES = 32;
export const DEV_RUNNER_KEY_ID = "default";

/** "id:base64secret,…" — the format the runner and the Worker share. */
const RunnerKeysSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+:[A-Za-z0-9+/=_-]{16,}(,[A-Za-z0-9_.-]+:[A-Za-z0-9+/=_-]{16,})*$/, 'expected "id:base64secret[,id:base64secret…]"');

export interface Secret {
  value: string;
  /** Where it came from, for the startup summary. */
  from: "env" | "file" | "generated";
}

function fromFileOrGenerate(path: string, generate: () => string, validate: (v: string) => string | undefined, what: string): Secret {
  if (existsSync(path)) {
    const value = readFileSync(path, "utf8").trim();
    const problem = validate(value);
    if (problem) throw new Error(`${path} holds an invalid ${what} (${problem}); delete it to have a new one generated`);
    chmodSync(path, 0o600);
    return { value, from: "file" };
  }
  const value = generate();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return { value, from: "generated" };
}

const apiTokenProblem = (v: string) => {
  const r = WorkerConfigSchema.shape.PG2UNE_API_TOKEN.safeParse(v);
  return r.success ? undefined : r.error.issues[0]?.message;
};
const runnerKeysProblem = (v: string) => {
  const r = RunnerKeysSchema.safeParse(v);
  return r.success ? undefined : r.error.issues[0]?.message;
};

export function loadApiToken(path: string, env: NodeJS.ProcessEnv = process.env): Secret {
  const fromEnv = env.PG2UNE_API_TOKEN;
  if (fromEnv) {
    const problem = apiTokenProblem(fromEnv);
    if (problem) throw new Error(`PG2UNE_API_TOKEN: ${problem}`);
    return { value: fromEnv, from: "env" };
  }
  return fromFileOrGenerate(path, () => randomBytes(API_TOKEN_BYTES).toString("base64url"), apiTokenProblem, "API token");
}

export function loadRunnerKeys(path: string, env: NodeJS.ProcessEnv = process.env): Secret {
  const fromEnv = env.PG2UNE_RUNNER_KEYS;
  if (fromEnv) {
    const problem = runnerKeysProblem(fromEnv);
    if (problem) throw new Error(`PG2UNE_RUNNER_KEYS: ${problem}`);
    return { value: fromEnv, from: "env" };
  }
  return fromFileOrGenerate(
    path,
    () => `${DEV_RUNNER_KEY_ID}:${randomBytes(RUNNER_SECRET_BYTES).toString("base64")}`,
    runnerKeysProblem,
    "runner key list",
  );
}

/** The id of the first key: the one the Worker signs with (RUNNER_KEY_ID). */
export function firstKeyId(keys: string): string {
  return keys.split(",")[0]!.split(":")[0]!;
}
