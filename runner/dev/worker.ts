/**
 * The Worker under `wrangler dev --local`. Its bindings (secrets included) go into a dotenv file
 * in the state dir, mode 0600, passed with --env-file — so no secret sits on a command line
 * (visible in `ps`) or in a file that could be committed.
 */
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ManagedChild } from "./children";
import { spawnChild } from "./children";
import type { DevOutput } from "./output";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const WRANGLER_TOML = join(REPO_ROOT, "wrangler.toml");

/** Bindings the dev stack sets; the rest come from wrangler.toml's [vars]. */
export interface WorkerBindings {
  DATABASE_URL: string;
  NEON_WS_PROXY: string;
  PG2UNE_API_TOKEN: string;
  PG2UNE_RUNNER_KEYS: string;
  RUNNER_URL: string;
  RUNNER_KEY_ID: string;
  TOTAL_RAM_MB: string;
  /** JSON, src/core/rollout/timings.ts */
  ROLLOUT_TIMINGS: string;
  /** JSON, src/decide/detection-windows.ts (the demo shortens the CUSUM reference). */
  DETECTION_WINDOWS?: string;
}

export function renderDotenv(bindings: WorkerBindings): string {
  const lines = Object.entries(bindings).filter((e): e is [string, string] => e[1] !== undefined).map(([k, v]) => {
    if (/[\n\r]/.test(v)) throw new Error(`binding ${k} holds a newline; refusing to write it`);
    // JSON values (ROLLOUT_TIMINGS) hold double quotes: dotenv takes them inside single quotes.
    if (!v.includes('"')) return `${k}="${v}"`;
    if (!v.includes("'")) return `${k}='${v}'`;
    throw new Error(`binding ${k} holds both quote characters; refusing to write it`);
  });
  return `# written by pg2une dev on every start; holds secrets (mode 0600)\n${lines.join("\n")}\n`;
}

export function writeWorkerEnv(path: string, bindings: WorkerBindings): void {
  writeFileSync(path, renderDotenv(bindings), { mode: 0o600 });
}

export function findWrangler(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
  } catch {
    throw new Error("wrangler is not installed: run `npm install` (it is a devDependency)");
  }
}

export interface StartWorkerOptions {
  host: string;
  port: number;
  envFile: string;
  persistTo: string;
  logDir: string;
  output: DevOutput;
}

export function startWrangler(opts: StartWorkerOptions): ManagedChild {
  const args = [
    findWrangler(),
    "dev",
    "--config",
    WRANGLER_TOML,
    "--local",
    "--test-scheduled",
    "--ip",
    opts.host,
    "--port",
    String(opts.port),
    "--env-file",
    opts.envFile,
    "--persist-to",
    opts.persistTo,
    "--show-interactive-dev-session=false",
  ];
  return spawnChild({
    name: "wrangler",
    command: process.execPath,
    args,
    cwd: REPO_ROOT,
    output: opts.output,
    env: {
      ...process.env,
      // Offline-friendly, no telemetry, and our env file is read even if the user turned that off.
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: "true",
      WRANGLER_LOG_PATH: opts.logDir,
      // Secrets reach the Worker only through the env file, never through our own environment.
      CLOUDFLARE_INCLUDE_PROCESS_ENV: "false",
    },
  });
}
