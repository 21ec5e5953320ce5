/**
 * `pg2une dev` options: flags win over env, env over the defaults below. Every port has a fixed
 * default (so the printed URLs stay the same from run to run) and a flag + env var (so tests and
 * a second stack can move it).
 */
import { resolve } from "node:path";
import { z } from "zod";
import { RolloutTimingsSchema, type RolloutTimingsInput } from "../../src/core/rollout/timings";

export const DEV_DEFAULTS = {
  dir: ".pg2une",
  apiPort: 8787,
  runnerPort: 7070,
  pgPort: 54329,
  pgbouncerPort: 54330,
  bridgePort: 54331,
  /** pg2une's own history database (a cluster of its own, see ./postgres). */
  dbPort: 54332,
  /** wrangler's cron emulation is only /__scheduled; we call it this often (s). 0 = never. */
  cronIntervalS: 60,
  /**
   * --demo ticks faster: CUSUM learns its baseline from 60 snapshots (src/core/detect/config.ts),
   * which is 5 min at one tick every 5 s instead of an hour at the production minute.
   */
  demoCronIntervalS: 5,
  /** --demo keeps its own state (fresh history each time) apart from the user's dev data. */
  demoDir: ".pg2une/demo",
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
  dbPort: "PG2UNE_DEV_DB_PORT",
  cronIntervalS: "PG2UNE_DEV_CRON_INTERVAL_S",
  pgbouncer: "PG2UNE_DEV_PGBOUNCER",
  demo: "PG2UNE_DEV_DEMO",
  rolloutTimings: "PG2UNE_DEV_ROLLOUT_TIMINGS",
} as const;

const flag = z
  .union([z.boolean(), z.enum(["0", "1", "true", "false"])])
  .transform((v) => v === true || v === "1" || v === "true");

const port = z.coerce.number().int().min(1, "must be 1–65535").max(65535, "must be 1–65535");

export const DevOptionsSchema = z.object({
  /** Default: DEV_DEFAULTS.dir, or DEV_DEFAULTS.demoDir with --demo. */
  dir: z.string().min(1).optional(),
  apiPort: port.default(DEV_DEFAULTS.apiPort),
  runnerPort: port.default(DEV_DEFAULTS.runnerPort),
  pgPort: port.default(DEV_DEFAULTS.pgPort),
  pgbouncerPort: port.default(DEV_DEFAULTS.pgbouncerPort),
  bridgePort: port.default(DEV_DEFAULTS.bridgePort),
  dbPort: port.default(DEV_DEFAULTS.dbPort),
  /** Default: DEV_DEFAULTS.cronIntervalS, or DEV_DEFAULTS.demoCronIntervalS with --demo. */
  cronIntervalS: z.coerce.number().min(0, "must be ≥ 0 seconds (0 = no cron)").optional(),
  /** Start PgBouncer when it is installed. `false` skips it. */
  pgbouncer: flag.default(true),
  /** Drive a built-in workload and inject a degradation (./demo). */
  demo: flag.default(false),
  /** JSON over the stack's rollout timings (./timings), e.g. {"canaryStepMs": 5000}; checked here, not in the Worker. */
  rolloutTimings: z
    .string()
    .optional()
    .transform((v, ctx): RolloutTimingsInput | undefined => {
      if (v === undefined || v.trim() === "") return undefined;
      let json: unknown;
      try {
        json = JSON.parse(v);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: `not JSON: ${(err as Error).message}` });
        return z.NEVER;
      }
      // Checked against the Worker's schema, but kept as given: the schema's defaults would
      // otherwise overwrite the stack's own timings with the production ones.
      const checked = RolloutTimingsSchema.partial().strict().safeParse(json);
      for (const issue of checked.error?.issues ?? []) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path as PropertyKey[] });
      return checked.success ? (json as RolloutTimingsInput) : z.NEVER;
    }),
});

export type DevOptions = Omit<z.output<typeof DevOptionsSchema>, "dir" | "cronIntervalS"> & { dir: string; cronIntervalS: number };
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
  dbPort: "--db-port",
  cronIntervalS: "--cron-interval",
  pgbouncer: "--no-pgbouncer",
  demo: "--demo",
  rolloutTimings: "--rollout-timings",
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
    const inner = issue && issue.path.length > 1 ? ` (${issue.path.slice(1).join(".")})` : "";
    throw new DevOptionsError(`${key ? flagFor(key) : "options"}${inner}: ${issue?.message ?? "invalid"}`);
  }
  const { demo } = parsed.data;
  const options: DevOptions = {
    ...parsed.data,
    dir: resolve(cwd, parsed.data.dir ?? (demo ? DEV_DEFAULTS.demoDir : DEV_DEFAULTS.dir)),
    cronIntervalS: parsed.data.cronIntervalS ?? (demo ? DEV_DEFAULTS.demoCronIntervalS : DEV_DEFAULTS.cronIntervalS),
  };
  if (demo && !options.pgbouncer) throw new DevOptionsError(`${flagFor("demo")}: the demo drives its workload through PgBouncer; drop ${flagFor("pgbouncer")}`);
  if (demo && options.cronIntervalS === 0) throw new DevOptionsError(`${flagFor("cronIntervalS")}: the demo needs the cron (pg2une decides on its ticks); give it a positive interval`);
  const ports = [
    ["apiPort", options.apiPort],
    ["runnerPort", options.runnerPort],
    ["pgPort", options.pgPort],
    ["bridgePort", options.bridgePort],
    ["dbPort", options.dbPort],
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
