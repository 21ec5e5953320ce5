/**
 * The runner's configuration: a JSON config file, then env, then flags (flags win over env,
 * env over the file). Validated with zod; a bad value is a CliError naming it.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { KnobNameSchema } from "../src/protocol";

export const DEFAULT_RUNNER_PORT = 7070;
export const DEFAULT_RUNNER_HOST = "127.0.0.1";

export const RunnerConfigSchema = z.object({
  host: z.string().min(1).default(DEFAULT_RUNNER_HOST),
  port: z.coerce.number().int().min(0).max(65535).default(DEFAULT_RUNNER_PORT),
  stateDir: z.string().min(1).default(".pg2une/runner"),
  /** The PostgreSQL this runner acts on. */
  targetUrl: z.string().min(1).optional(),
  /** "id:base64secret,id2:base64secret2" — several keys may be active (rotation). */
  keys: z.string().default(""),
  /**
   * Settings outside the knob catalog, or protected ones (fsync, wal_level …), that this
   * runner's operator allows pg2une to change: exact names, comma-separated or a JSON array.
   */
  allowKnobs: z
    .union([z.array(z.string()), z.string()])
    .default([])
    .transform((v) => (typeof v === "string" ? v.split(",") : v).map((s) => s.trim()).filter((s) => s !== ""))
    .pipe(z.array(KnobNameSchema)),
  /** Overrides every command's own timeout (ms); unset = each command's default. */
  commandTimeoutMs: z.coerce.number().int().min(100).max(3_600_000).optional(),
  /**
   * Where canaries run: "local" (a pg_basebackup hot standby on another loopback address of this
   * host; dev, tests, single-host installs) or "mxc" (a replica microVM from the coordinator).
   */
  canaryBackend: z.enum(["local", "mxc"]).default("local"),
  /**
   * Where local canaries' data directories go (default <stateDir>/canaries). When the runner is
   * root, PostgreSQL runs as `postgres`, which must be able to reach this directory.
   */
  canaryDir: z.string().min(1).optional(),
  /** Address for a local canary (default: the first free 127.0.0.2 … 127.0.0.31). */
  canaryHost: z.string().min(1).optional(),
  /**
   * PgBouncer the runner routes through (entries `rw` → primary, `ro` → split): the directory
   * holding its pgbouncer.ini, which the runner owns and rewrites. Routing is off when unset.
   */
  pgbouncerDir: z.string().min(1).optional(),
  /** PgBouncer's listen address as host:port (its admin console is there too). */
  pgbouncerListen: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, "must be host:port")
    .optional(),
  mxcCoordinator: z.url().optional(),
  mxcApiToken: z.string().min(1).optional(),
  /** Nix system name in microVM config names (pg2une-postgres-replica-<arch>); default from this machine. */
  mxcArch: z.string().regex(/^[a-z0-9_]+$/).optional(),
}).refine((c) => (c.pgbouncerDir === undefined) === (c.pgbouncerListen === undefined), {
  message: "PgBouncer routing needs both PG2UNE_PGBOUNCER_DIR and PG2UNE_PGBOUNCER_LISTEN (or neither)",
  path: ["pgbouncerListen"],
});

export type RunnerConfig = z.output<typeof RunnerConfigSchema>;
export type RunnerConfigInput = z.input<typeof RunnerConfigSchema>;

const ENV_KEYS: Record<string, keyof RunnerConfigInput> = {
  PG2UNE_RUNNER_HOST: "host",
  PG2UNE_RUNNER_PORT: "port",
  PG2UNE_RUNNER_STATE_DIR: "stateDir",
  TARGET_POSTGRES_URL: "targetUrl",
  PG2UNE_RUNNER_KEYS: "keys",
  PG2UNE_RUNNER_ALLOW_KNOBS: "allowKnobs",
  PG2UNE_RUNNER_COMMAND_TIMEOUT_MS: "commandTimeoutMs",
  PG2UNE_CANARY_BACKEND: "canaryBackend",
  PG2UNE_CANARY_HOST: "canaryHost",
  PG2UNE_CANARY_DIR: "canaryDir",
  PG2UNE_PGBOUNCER_DIR: "pgbouncerDir",
  PG2UNE_PGBOUNCER_LISTEN: "pgbouncerListen",
  MXC_COORDINATOR: "mxcCoordinator",
  MXC_API_TOKEN: "mxcApiToken",
  PG2UNE_MXC_ARCH: "mxcArch",
};

export function loadRunnerConfig(opts: {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  flags?: Partial<RunnerConfigInput>;
}): RunnerConfig {
  let fromFile: Record<string, unknown> = {};
  if (opts.file) {
    try {
      fromFile = JSON.parse(readFileSync(opts.file, "utf8")) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`cannot read runner config ${opts.file}: ${(err as Error).message}`);
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const [envName, key] of Object.entries(ENV_KEYS)) {
    const v = (opts.env ?? process.env)[envName];
    if (v !== undefined && v !== "") fromEnv[key] = v;
  }
  const flags = Object.fromEntries(Object.entries(opts.flags ?? {}).filter(([, v]) => v !== undefined));
  const parsed = RunnerConfigSchema.safeParse({ ...fromFile, ...fromEnv, ...flags });
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`invalid runner config: ${i?.path.join(".")}: ${i?.message}`);
  }
  return parsed.data;
}
