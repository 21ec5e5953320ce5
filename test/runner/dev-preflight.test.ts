/**
 * `pg2une dev` refuses to start, with one clear line and exit code 1 (no stack trace), when a
 * port is taken, another stack owns the dir, or a flag is bad — and it recovers from what a
 * crashed run leaves in the data dir (postmaster.pid).
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveDevOptions } from "../../runner/dev/options";
import { clearStalePostmaster, processArgs } from "../../runner/dev/recovery";
import { freePort } from "../../runner/net/ports";
import { startTestCluster } from "../support/postgres";

const root = mkdtempSync(join(tmpdir(), "pg2une-dev-preflight-"));
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function dev(args: string[]) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("PG2UNE_DEV_")) delete env[k];
  return spawnSync(process.execPath, ["runner/bin/pg2une.js", "dev", ...args], { encoding: "utf8", env, timeout: 60_000 });
}

/** Every port flag with a free port, so the default ports of a running `npm start` never matter. */
async function portArgs(): Promise<string[]> {
  const args: string[] = [];
  for (const flag of ["--api-port", "--runner-port", "--pg-port", "--pgbouncer-port", "--bridge-port"]) args.push(flag, String(await freePort()));
  return args;
}

describe("pg2une dev preflight", () => {
  it("a port in use is one line naming the port, its flag and env var; exit 1; nothing started", async () => {
    const blocker: Server = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, "127.0.0.1", () => r()));
    try {
      const dir = join(root, "busy");
      const args = await portArgs();
      args[args.indexOf("--runner-port") + 1] = String(port);
      const r = dev(["--dir", dir, ...args]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split("\n")).toEqual([
        `pg2une dev: port ${port} on 127.0.0.1 is already in use, needed for the runner (--runner-port / PG2UNE_DEV_RUNNER_PORT); stop what is there or choose another port`,
      ]);
      expect(existsSync(join(dir, "pg", "PG_VERSION"))).toBe(false);
      expect(existsSync(join(dir, "dev.json"))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it("bad flags name the flag and the env var (exit 2)", () => {
    const r = dev(["--api-port", "80000"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--api-port \/ PG2UNE_DEV_API_PORT: must be 1–65535/);
    const same = dev(["--api-port", "9000", "--runner-port", "9000"]);
    expect(same.status).toBe(2);
    expect(same.stderr).toMatch(/--runner-port \/ PG2UNE_DEV_RUNNER_PORT: port 9000 is also given to --api-port/);
    expect(dev(["--bogus"]).stderr).toMatch(/Unknown option '--bogus'/);
  });

  it("env sets what flags do not; flags win", () => {
    const o = resolveDevOptions({ apiPort: "9100" }, { PG2UNE_DEV_API_PORT: "9000", PG2UNE_DEV_RUNNER_PORT: "9001", PG2UNE_DEV_PGBOUNCER: "0" }, "/x");
    expect(o).toMatchObject({ apiPort: 9100, runnerPort: 9001, pgPort: 54329, pgbouncer: false, dir: "/x/.pg2une" });
  });

  it("refuses to run beside a live stack on the same dir", async () => {
    const dir = join(root, "owned");
    mkdirSync(dir, { recursive: true });
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 100));
      writeFileSync(join(dir, "dev.json"), JSON.stringify({ pid: other.pid, args: processArgs(other.pid!), children: [] }));
      const r = dev(["--dir", dir, ...(await portArgs())]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`another pg2une dev (pid ${other.pid}) is running on ${dir}`);
    } finally {
      other.kill("SIGKILL");
    }
  });
});

describe("recovering a data dir after a crash", () => {
  it("a postmaster.pid naming a live non-PostgreSQL process (PID reuse) is removed", async () => {
    const pgData = join(root, "reused");
    mkdirSync(pgData, { recursive: true });
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      writeFileSync(join(pgData, "postmaster.pid"), `${other.pid}\n${pgData}\n`);
      const said: string[] = [];
      await clearStalePostmaster(pgData, (m) => said.push(m));
      expect(existsSync(join(pgData, "postmaster.pid"))).toBe(false);
      expect(said[0]).toMatch(/removing stale .*postmaster\.pid/);
    } finally {
      other.kill("SIGKILL");
    }
  });

  it("a postmaster left running on the data dir is shut down", async () => {
    const cluster = await startTestCluster();
    try {
      const said: string[] = [];
      await clearStalePostmaster(cluster.dataDir, (m) => said.push(m));
      expect(said[0]).toMatch(new RegExp(`stopping PostgreSQL \\(pid ${cluster.pid}\\)`));
      await new Promise((r) => setTimeout(r, 200));
      expect(cluster.running).toBe(false);
    } finally {
      await cluster.destroy();
    }
  });

  it("a postmaster.pid whose process is gone is left for PostgreSQL to handle", async () => {
    const pgData = join(root, "dead");
    mkdirSync(pgData, { recursive: true });
    const gone = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim();
    writeFileSync(join(pgData, "postmaster.pid"), `${gone}\n`);
    await clearStalePostmaster(pgData, () => undefined);
    expect(existsSync(join(pgData, "postmaster.pid"))).toBe(true);
  });
});
