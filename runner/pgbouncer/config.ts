/**
 * PgBouncer's configuration as data: a typed, zod-validated description rendered to
 * pgbouncer.ini (and its auth file), written atomically so a RELOAD never reads half a file.
 * One definition for the dev stack, the tests and (later) canary routing, which adds entries
 * whose `host` is a list (PgBouncer ≥ 1.17 spreads new server connections over it; with
 * `server_round_robin = 1` the share per host follows how often it is listed).
 *
 * @example
 *   const config = pgbouncerConfig({
 *     listen: { host: "127.0.0.1", port: 6432 },
 *     dir: "/tmp/pgb",
 *     databases: { rw: { host: "127.0.0.1", port: 5432, dbname: "app" } },
 *   });
 *   writePgbouncerFiles(config); // → /tmp/pgb/pgbouncer.ini, /tmp/pgb/userlist.txt
 */
import { chownSync, closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { PG2UNE_SQL_MARKER } from "../../src/core/canary";
import { postgresOsUser, type OsUser } from "../postgres/cluster";

/** PgBouncer's server_check_query: its default `select 1`, marked as pg2une's. */
export const SERVER_CHECK_QUERY = `${PG2UNE_SQL_MARKER} select 1`;

/** Names PgBouncer accepts unquoted as database/user keys; anything else is refused, never escaped. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/;
/** Host names / addresses: no spaces, commas, quotes or '=' that could change the ini's meaning. */
const HOST = /^[A-Za-z0-9_.:[\]-]{1,253}$/;
/** Paths go into the ini unquoted; keep them to characters that cannot break a line. */
const SAFE_PATH = /^[^\s'"=;#\n\r]+$/;

const identifier = z.string().regex(IDENTIFIER, "must be a plain identifier (letters, digits, _ . -)");
const host = z.string().regex(HOST, "must be a host name or IP address");
const port = z.number().int().min(1).max(65535);
const filePath = z.string().regex(SAFE_PATH, "must be a path without spaces, quotes, '=', ';' or '#'");

/** Defaults with names, so a reader sees what we chose and why. */
export const PGBOUNCER_DEFAULTS = {
  /** Session pooling: pg2une's clients use session state (prepared statements, SET). */
  poolMode: "session",
  defaultPoolSize: 20,
  minPoolSize: 0,
  maxClientConn: 200,
  /** node-postgres and JDBC send extra_float_digits; PgBouncer would otherwise refuse them. */
  ignoreStartupParameters: ["extra_float_digits"],
  /** Idle server connections are checked after this long (s). */
  serverCheckDelay: 10,
} as const;

/**
 * connect_query goes into the ini single-quoted; keep it to characters that cannot end the quote
 * or the line (pg2une's own queries need no more).
 */
const CONNECT_QUERY = /^[A-Za-z0-9_ =*/.,()-]{1,200}$/;

export const PgbouncerDatabaseSchema = z.object({
  /** One host, or a list (PgBouncer ≥ 1.17): new server connections go round the list. */
  host: z.union([host, z.array(host).min(1)]),
  port,
  dbname: identifier,
  user: identifier.optional(),
  poolSize: z.number().int().min(1).optional(),
  /** Server connections kept open per pool (PgBouncer maintains it while the pool has clients). */
  minPoolSize: z.number().int().min(0).optional(),
  poolMode: z.enum(["session", "transaction", "statement"]).optional(),
  /** Run on every new server connection before clients use it. */
  connectQuery: z.string().regex(CONNECT_QUERY, "must be a plain SQL statement without quotes or semicolons").optional(),
});

export const PgbouncerUserSchema = z.object({
  name: identifier,
  /** Plain or md5/SCRAM secret as PgBouncer's auth_file takes it; empty for trust. */
  password: z.string().regex(/^[^"\n\r]*$/, "must not contain double quotes or newlines").default(""),
});

export const PgbouncerConfigSchema = z.object({
  /** Directory holding pgbouncer.ini, the auth file and the pid file. */
  dir: filePath,
  listen: z.object({ host, port }),
  databases: z.record(identifier, PgbouncerDatabaseSchema).refine((d) => Object.keys(d).length > 0, "needs at least one database"),
  authType: z.enum(["trust", "any", "md5", "scram-sha-256"]).default("trust"),
  users: z.array(PgbouncerUserSchema).default([{ name: "postgres", password: "" }]),
  adminUsers: z.array(identifier).default(["postgres"]),
  poolMode: z.enum(["session", "transaction", "statement"]).default(PGBOUNCER_DEFAULTS.poolMode),
  defaultPoolSize: z.number().int().min(1).default(PGBOUNCER_DEFAULTS.defaultPoolSize),
  minPoolSize: z.number().int().min(0).default(PGBOUNCER_DEFAULTS.minPoolSize),
  maxClientConn: z.number().int().min(1).default(PGBOUNCER_DEFAULTS.maxClientConn),
  serverRoundRobin: z.boolean().default(false),
  ignoreStartupParameters: z.array(identifier).default([...PGBOUNCER_DEFAULTS.ignoreStartupParameters]),
  serverCheckDelay: z.number().int().min(0).default(PGBOUNCER_DEFAULTS.serverCheckDelay),
  /** Log to this file; unset = stderr (the dev stack prefixes it). */
  logFile: filePath.optional(),
});

export type PgbouncerConfigInput = z.input<typeof PgbouncerConfigSchema>;
export type PgbouncerConfig = z.output<typeof PgbouncerConfigSchema>;
export type PgbouncerDatabase = z.output<typeof PgbouncerDatabaseSchema>;

/** Validate a description; a bad one throws naming the field (nothing is written). */
export function pgbouncerConfig(input: PgbouncerConfigInput): PgbouncerConfig {
  const parsed = PgbouncerConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid PgBouncer config: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

export const pgbouncerPaths = (dir: string) => ({
  ini: join(dir, "pgbouncer.ini"),
  authFile: join(dir, "userlist.txt"),
  pidFile: join(dir, "pgbouncer.pid"),
});

function renderDatabase(db: PgbouncerDatabase): string {
  const fields: Array<[string, string | number | undefined]> = [
    ["host", Array.isArray(db.host) ? db.host.join(",") : db.host],
    ["port", db.port],
    ["dbname", db.dbname],
    ["user", db.user],
    ["pool_size", db.poolSize],
    ["min_pool_size", db.minPoolSize],
    ["pool_mode", db.poolMode],
    ["connect_query", db.connectQuery === undefined ? undefined : `'${db.connectQuery}'`],
  ];
  return fields
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

/** pgbouncer.ini text for a validated config. Pure: same config, same bytes. */
export function renderPgbouncerIni(config: PgbouncerConfig): string {
  const paths = pgbouncerPaths(config.dir);
  const databases = Object.entries(config.databases).map(([name, db]) => `${name} = ${renderDatabase(db)}`);
  const settings: Array<[string, string | number]> = [
    ["listen_addr", config.listen.host],
    ["listen_port", config.listen.port],
    // No unix socket: several PgBouncers (tests, dev stack) share a machine and /tmp.
    ["unix_socket_dir", ""],
    ["pidfile", paths.pidFile],
    ["auth_type", config.authType],
    ["auth_file", paths.authFile],
    ["admin_users", config.adminUsers.join(",")],
    ["stats_users", config.adminUsers.join(",")],
    ["pool_mode", config.poolMode],
    ["default_pool_size", config.defaultPoolSize],
    ["min_pool_size", config.minPoolSize],
    ["max_client_conn", config.maxClientConn],
    ["server_round_robin", config.serverRoundRobin ? 1 : 0],
    ["ignore_startup_parameters", config.ignoreStartupParameters.join(",")],
    ["server_check_delay", config.serverCheckDelay],
    // PgBouncer's own health check, marked so the canary share measurement leaves it out.
    ["server_check_query", SERVER_CHECK_QUERY],
  ];
  if (config.logFile) settings.push(["logfile", config.logFile]);
  return [
    "; written by pg2une — edits are overwritten",
    "[databases]",
    ...databases,
    "",
    "[pgbouncer]",
    ...settings.map(([k, v]) => `${k} = ${v}`),
    "",
  ].join("\n");
}

/** The auth_file: `"user" "secret"` per line. */
export function renderAuthFile(config: PgbouncerConfig): string {
  return config.users.map((u) => `"${u.name}" "${u.password}"`).join("\n") + "\n";
}

/**
 * Write-then-rename in the same directory: a reader (PgBouncer on RELOAD) sees the old file or
 * the new one, never a mix. The temp file is fsynced first so a crash cannot leave it empty.
 */
export function writeFileAtomic(path: string, text: string, opts: { mode?: number; owner?: OsUser | undefined } = {}): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, "w", opts.mode ?? 0o640);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (opts.owner) chownSync(tmp, opts.owner.uid, opts.owner.gid);
  renameSync(tmp, path);
}

/**
 * Writes pgbouncer.ini and the auth file into config.dir; returns their paths. When we are
 * root, PgBouncer runs as the `postgres` OS user (it refuses root), so the files are its.
 */
export function writePgbouncerFiles(config: PgbouncerConfig, owner: OsUser | undefined = postgresOsUser()): ReturnType<typeof pgbouncerPaths> {
  const paths = pgbouncerPaths(config.dir);
  writeFileAtomic(paths.authFile, renderAuthFile(config), { mode: 0o600, owner });
  writeFileAtomic(paths.ini, renderPgbouncerIni(config), { mode: 0o640, owner });
  return paths;
}
