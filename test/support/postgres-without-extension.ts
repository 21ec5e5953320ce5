/**
 * A real PostgreSQL server that lacks one extension, for honest "extension missing" tests: a
 * private install tree whose binaries are hard links (copies across filesystems) of the real
 * ones and whose lib/ and share/ link everything except that extension's files. PostgreSQL
 * finds share/ and lib/ relative to its own binary, so this server truly cannot load it.
 */
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { execFileSync } from "node:child_process";
import { findPostgresBinaries, type PostgresBinaries } from "../../runner/postgres/binaries";
import { initCluster, startPostgres, type RunningPostgres } from "../../runner/postgres/cluster";
import { freePort } from "../../runner/net/ports";
import { runSql } from "./postgres";

export interface ClusterWithout extends RunningPostgres {
  destroy(): Promise<void>;
}

function pgConfig(bindir: string, flag: string): string {
  return execFileSync(join(bindir, "pg_config"), [flag], { encoding: "utf8" }).trim();
}

/** Builds <root>/<same layout as the real install> without files starting with `extension`. */
function installTreeWithout(extension: string, root: string, real: PostgresBinaries): PostgresBinaries {
  const bindir = dirname(realpathSync(real.path("postgres")));
  const sharedir = pgConfig(bindir, "--sharedir");
  const pkglibdir = pgConfig(bindir, "--pkglibdir");
  const mirror = (dir: string) => join(root, dir);
  mkdirSync(mirror(bindir), { recursive: true });
  for (const f of readdirSync(bindir)) {
    try {
      linkSync(join(bindir, f), join(mirror(bindir), f));
    } catch {
      copyFileSync(join(bindir, f), join(mirror(bindir), f));
      chmodSync(join(mirror(bindir), f), 0o755);
    }
  }
  const linkAllBut = (from: string, to: string, skip: (name: string) => boolean) => {
    mkdirSync(to, { recursive: true });
    for (const f of readdirSync(from)) if (!skip(f)) symlinkSync(join(from, f), join(to, f));
  };
  const isExt = (f: string) => f === `${extension}.so` || f.startsWith(`${extension}--`) || f === `${extension}.control` || f === extension;
  linkAllBut(pkglibdir, mirror(pkglibdir), isExt);
  linkAllBut(sharedir, mirror(sharedir), (f) => f === "extension");
  linkAllBut(join(sharedir, "extension"), join(mirror(sharedir), "extension"), isExt);
  execFileSync("chmod", ["-R", "a+rX", root]);
  const dir = mirror(bindir);
  return { bindir: dir, major: real.major, source: "PG_BIN", path: (tool) => join(dir, tool), sharedir: () => mirror(sharedir) };
}

export async function startClusterWithout(extension: string): Promise<ClusterWithout> {
  const root = mkdtempSync(join(tmpdir(), `pg2une-no-${basename(extension)}-`));
  chmodSync(root, 0o755);
  const bins = installTreeWithout(extension, join(root, "install"), findPostgresBinaries());
  const dataDir = join(root, "data");
  initCluster({ dataDir, settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" } }, bins);
  const port = await freePort("127.0.0.1");
  const server = await startPostgres({ dataDir, port, host: "127.0.0.1", logFile: join(root, "server.log") }, bins);
  await runSql(server.url(), "create extension if not exists pg_stat_statements");
  return {
    ...server,
    get running() {
      return server.running;
    },
    stop: (mode) => server.stop(mode),
    async destroy() {
      await server.stop("fast");
      rmSync(root, { recursive: true, force: true });
    },
  };
}
