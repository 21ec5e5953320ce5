/**
 * `pg2une dev` options: flags win over env, env over the defaults below. Every port has a fixed
 * default (so the printed URLs stay the same from run to run) and a flag + env var (so tests and
 * a second stack can move it).
 */
import { resolve } from "node:path";
import { z } from "zod";

export const DEV_DEFAULTS = {
  dir: ".pg2une",
  apiPort: 8787,
  runnerPort: 7070,
  pgPort: 54329,
  pgbouncerPort: 54330,
  bridgePort: 54331,
  /** wrangler's cron emulation is only /__scheduled; we call it this often (s). 0 = never. */
  cronIntervalS: 60,
  /** The first tick comes this soon after the API is up, so the log shows one right away (s). */
  firstCronDelayS: 2,
} as const;

/** The env var behind each option (documented in README's configuration table). */
export const DEV_ENV = {
  dir: "PG2UNE_DEV_DIR",
  apiPort: "PG2UNE_DEV_API_PORT",
  runnerPort: "PG2UNE_DEV_RUNNER_PORT",
  pgPort: "PG2UNE_DEV_PG_PORT",
  pgbouncerPort: "PG2UNE_DEV_PGBOUNCER_PORT",
  bridgePort: "PG2UNE_DEV_BRIDGE_PORT",
  cronIntervalS: "PG2UNE_DEV_CRON_INTERVAL_S",
  pgbouncer: "PG2UNE_DEV_PGBOUNCER",
} as const;

const port = z.coerce.number().int().min(1, "must be 1–65535").max(65535, "must be 1–65535");

export const DevOptionsSchema = z.object({
  dir: z.string().min(1).default(DEV_DEFAULTS.dir),
  apiPort: port.default(DEV_DEFAULTS.apiPort),
  runnerPort: port.default(DEV_DEFAULTS.runnerPort),
  pgPort: port.default(DEV_DEFAULTS.pgPort),
  pgbouncerPort: port.default(DEV_DEFAULTS.pgbouncerPort),
  bridgePort: port.default(DEV_DEFAULTS.bridgePort),
  cronIntervalS: z.coerce.number().min(0).default(DEV_DEFAULTS.cronIntervalS),
  /** Start PgBouncer when it is installed. `false` skips it. */
  pgbouncer: z
    .union([z.boolean(), z.enum(["0", "1", "true", "false"])])
    .transform((v) => v === true || v === "1" || v === "true")
    .default(true),
});

export type DevOptions = z.output<typeof DevOptionsSchema> & { dir: string };
export type DevOptionsInput = Partial<Record<keyof typeof DEV_ENV, string | boolean | undefined>>;

/** Thrown for a bad flag or env value; names the flag and the env var. */
export class DevOptionsError extends Error {
  override name = "DevOptionsError";
}

const FLAG: Record<keyof typeof DEV_ENV, string> = {
  dir: "--dir",
  apiPort: "--api-port",
  runnerPort: "--runner-port",
  pgPort: "--pg-port",
  pgbouncerPort: "--pgbouncer-port",
  bridgePort: "--bridge-port",
  cronIntervalS: "--cron-interval",
  pgbouncer: "--no-pgbouncer",
};

export function flagFor(key: keyof typeof DEV_ENV): string {
  return `${FLAG[key]} / ${DEV_ENV[key]}`;
}

export function resolveDevOptions(flags: DevOptionsInput, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): DevOptions {
  const merged: Record<string, unknown> = {};
  for (const key of Object.keys(DEV_ENV) as Array<keyof typeof DEV_ENV>) {
    const fromEnv = env[DEV_ENV[key]];
    const value = flags[key] ?? (fromEnv === undefined || fromEnv === "" ? undefined : fromEnv);
    if (value !== undefined) merged[key] = value;
  }
  const parsed = DevOptionsSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path[0] as keyof typeof DEV_ENV | undefined;
    throw new DevOptionsError(`${key ? flagFor(key) : "options"}: ${issue?.message ?? "invalid"}`);
  }
  const options = { ...parsed.data, dir: resolve(cwd, parsed.data.dir) };
  const ports = [
    ["apiPort", options.apiPort],
    ["runnerPort", options.runnerPort],
    ["pgPort", options.pgPort],
    ["bridgePort", options.bridgePort],
    ...(options.pgbouncer ? [["pgbouncerPort", options.pgbouncerPort] as const] : []),
  ] as const;
  const seen = new Map<number, string>();
  for (const [key, p] of ports) {
    const other = seen.get(p);
    if (other) throw new DevOptionsError(`${flagFor(key)}: port ${p} is also given to ${other}`);
    seen.set(p, flagFor(key));
  }
  return options;
}
