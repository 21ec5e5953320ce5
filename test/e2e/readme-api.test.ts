/**
 * The README's curl examples, as written, against `pg2une dev`: the commands are read out of
 * README.md's ```sh blocks (so README and test cannot drift), run by bash from a directory whose
 * `.pg2une` is the stack's state dir (so `$(cat .pg2une/api-token)` works as documented), with
 * only the documented placeholders replaced: the default API URL http://127.0.0.1:8787 by this
 * stack's, and `<run_id>` by the id the POST /api/optimize example answered. Each answer's HTTP
 * status and JSON shape are checked against ENDPOINTS below; a README curl for an endpoint this
 * table does not know, or a known endpoint without a README curl, fails the test. A status the
 * README's comment states must be the one the stack answers.
 *
 * The POST /api/optimize example starts a real canary run on the dev stack (local standby on
 * 127.0.0.2, PgBouncer routing by the runner, which owns pgbouncer.ini); the test puts read load on
 * `ro` with the demo's workload driver and waits for the run to end promoted or rolled back, then
 * stops the stack with SIGTERM and checks that no process of it (canary and restarted old
 * primary included) is left.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { freePort, freePortOnAll } from "../../runner/net/ports";
import { startDemoWorkload, writeDemoScripts, initPgbenchTables, type DemoWorkload } from "../../runner/dev/demo/workload";
import { findTool } from "../../runner/postgres/binaries";
import { README_API, readmeCurls } from "../support/readme-curls";
import { checkTool, requireOrSkip } from "../support/tools";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const READY_TIMEOUT_MS = 120_000;
const RUN_TIMEOUT_MS = 150_000;
/** Short rollout windows for the test (the stack's own defaults are in runner/dev/timings.ts). */
const TEST_TIMINGS = {
  sampleEveryMs: 2_000,
  baselineWindowMs: 4_000,
  settleMs: 500,
  directStabilizationMs: 4_000,
  canaryStepMs: 4_000,
  routeMeasureWindowMs: 1_000,
  verifyWindowMs: 2_000,
  resumeCheckMs: 2_000,
};

const pgbench = findTool("pgbench");
const HAVE_TOOLS =
  requireOrSkip(checkTool("pgbouncer", "Debian: apt-get install pgbouncer"), "README API e2e") &&
  requireOrSkip(pgbench ? { ok: true } : { ok: false, why: "pgbench is not installed (Debian: apt-get install postgresql-client)" }, "README API e2e") &&
  requireOrSkip(checkTool("curl", "Debian: apt-get install curl"), "README API e2e") &&
  requireOrSkip(checkTool("jq", "Debian: apt-get install jq"), "README API e2e");

const Json = z.record(z.string(), z.unknown());
const ErrorBody = z.object({ error: z.string() });

interface Endpoint {
  method: string;
  /** The path after $API, query string excluded; `:id` matches one segment. */
  path: string;
  /** Extra match on the request body (two POST /api/optimize examples). */
  body?: RegExp;
  status: number;
  shape: z.ZodType;
}

const ENDPOINTS: Endpoint[] = [
  { method: "GET", path: "/", status: 200, shape: z.object({ status: z.literal("ok"), app: z.literal("pg2une"), version: z.string() }) },
  { method: "GET", path: "/api/status", status: 200, shape: z.object({ target: z.string(), state: z.string(), busy: z.boolean(), cooldown_left_seconds: z.number() }) },
  { method: "GET", path: "/api/metrics", status: 200, shape: z.object({ target: z.literal("default"), snapshot: z.object({ snapshot_time: z.string(), tps: z.number().nullable() }).passthrough(), queries: z.array(Json) }) },
  { method: "GET", path: "/api/metrics/history", status: 200, shape: z.object({ minutes: z.number(), items: z.array(Json).min(1) }) },
  { method: "GET", path: "/api/analysis", status: 200, shape: z.object({ target: z.literal("default"), metrics: Json, confidence: Json, decision: z.object({ should_act: z.array(z.string()), summary: z.string() }).passthrough() }).passthrough() },
  { method: "POST", path: "/api/optimize", body: /"knobs"/, status: 202, shape: z.object({ run_id: z.string().regex(/^r-/), state: z.string(), action: z.literal("knobs"), mode: z.literal("canary") }) },
  { method: "POST", path: "/api/optimize", body: /"queries"/, status: 409, shape: ErrorBody },
  { method: "GET", path: "/api/optimizations", status: 200, shape: z.object({ limit: z.literal(5), optimizations: z.array(z.object({ id: z.string(), action: z.string(), mode: z.string() }).passthrough()).min(1) }) },
  { method: "GET", path: "/api/optimization/:id", status: 200, shape: z.object({ id: z.string(), action: z.literal("knobs"), mode: z.literal("canary"), events: z.array(z.object({ kind: z.string(), message: z.string() }).passthrough()).min(1) }).passthrough() },
  { method: "GET", path: "/api/config", status: 200, shape: z.object({ server_version: z.unknown(), settings: z.array(z.object({ name: z.string(), context: z.string() }).passthrough()).min(10) }).passthrough() },
  { method: "GET", path: "/api/infrastructure", status: 200, shape: z.object({ target: z.literal("default"), infrastructure: Json }) },
  { method: "POST", path: "/api/infrastructure", status: 409, shape: z.object({ error: z.string().regex(/mxc coordinator/), details: z.object({ reason: z.literal("mxc_failed") }).passthrough() }) },
  { method: "GET", path: "/api/targets", status: 200, shape: z.object({ targets: z.array(z.object({ name: z.string() }).passthrough()).min(1) }) },
  { method: "POST", path: "/api/targets", status: 201, shape: z.object({ target: z.object({ name: z.literal("orders") }).passthrough(), created: z.literal(true) }) },
  { method: "DELETE", path: "/api/targets/:id", status: 200, shape: z.object({ deleted: z.literal("orders") }) },
  { method: "POST", path: "/api/ingest", status: 200, shape: z.object({ ok: z.literal(true), status: z.literal("stored"), target: z.literal("default") }).passthrough() },
];

/** Defaults the README's examples are written with, replaced by this stack's ports. */
const README_PG_URL = "postgres://postgres@127.0.0.1:54329/";

/** Method and path (after $API or the default URL, without the query) of a curl command. */
function requestOf(command: string): { method: string; path: string; body: string } {
  const method = /-X\s+([A-Z]+)/.exec(command)?.[1] ?? (/\s-d\s/.test(command) ? "POST" : "GET");
  const url = /"?(?:\$API|http:\/\/127\.0\.0\.1:8787)([^\s"?]*)/.exec(command);
  const body = /-d\s+'([^']*)'/.exec(command)?.[1] ?? "";
  return { method, path: url?.[1] || "/", body };
}

function endpointOf(req: { method: string; path: string; body: string }): Endpoint | undefined {
  return ENDPOINTS.find((e) => {
    if (e.method !== req.method) return false;
    const re = new RegExp(`^${e.path.replace(/:id/g, "[^/]+")}$`);
    return re.test(req.path) && (!e.body || e.body.test(req.body));
  });
}

describe.runIf(HAVE_TOOLS)("README curl examples against pg2une dev", () => {
  const root = mkdtempSync(join(tmpdir(), "pg2une-e2e-readme-"));
  chmodSync(root, 0o755);
  const dir = join(root, ".pg2une");
  let dev: ChildProcess | undefined;
  let devOutput = "";
  let load: DemoWorkload | undefined;

  afterAll(async () => {
    await load?.stop();
    if (dev && dev.exitCode === null && dev.signalCode === null) {
      dev.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 30_000).unref() && dev!.once("exit", r));
    }
    rmSync(root, { recursive: true, force: true });
  });

  it("every README curl answers as documented; the canary run ends; nothing is left after SIGTERM", async () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    // `npx pg2une …` in the examples runs from the repository; here the cwd is a temp dir.
    mkdirSync(join(root, "node_modules", ".bin"), { recursive: true });
    symlinkSync(join(ROOT, "runner/bin/pg2une.js"), join(root, "node_modules", ".bin", "pg2une"));
    const curls = readmeCurls(readme);
    const unknown = curls.filter((c) => !endpointOf(requestOf(c.command)));
    expect(unknown.map((c) => c.command), "README curls for endpoints this test does not know").toEqual([]);
    const covered = new Set(curls.map((c) => endpointOf(requestOf(c.command))));
    expect(ENDPOINTS.filter((e) => !covered.has(e)).map((e) => `${e.method} ${e.path}`), "endpoints without a README curl").toEqual([]);

    const pgPort = await freePortOnAll(["127.0.0.1", "127.0.0.2"]);
    const ports = { api: await freePort(), runner: await freePort(), pgbouncer: await freePort(), bridge: await freePort(), db: await freePort() };
    const apiUrl = `http://127.0.0.1:${ports.api}`;
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.PG2UNE_API_TOKEN;
    delete env.PG2UNE_RUNNER_KEYS;
    dev = spawn(
      process.execPath,
      [
        join(ROOT, "runner/bin/pg2une.js"), "dev",
        "--dir", dir,
        "--api-port", String(ports.api), "--runner-port", String(ports.runner), "--pg-port", String(pgPort),
        "--pgbouncer-port", String(ports.pgbouncer), "--bridge-port", String(ports.bridge), "--db-port", String(ports.db),
        "--cron-interval", "2",
        "--rollout-timings", JSON.stringify(TEST_TIMINGS),
      ],
      { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    dev.stdout!.on("data", (d: Buffer) => (devOutput += d.toString()));
    dev.stderr!.on("data", (d: Buffer) => (devOutput += d.toString()));
    const exited = new Promise<number | string | null>((resolve) => dev!.once("exit", (code, signal) => resolve(code ?? signal)));
    await waitUntil(() => devOutput.includes("pg2une dev is up"), READY_TIMEOUT_MS, () => `pg2une dev did not come up:\n${devOutput}`, dev);
    const pids = /pids\s+(.*)/.exec(devOutput)![1]!.split(", ").map((p) => Number(p.split(" ").at(-1)));

    // Read load on `ro` (the entry whose share the canary gets), with the demo's workload driver.
    const pgbouncerUrl = `postgres://postgres@127.0.0.1:${ports.pgbouncer}`;
    await initPgbenchTables(pgbench!, `postgres://postgres@127.0.0.1:${pgPort}/postgres`, 1);
    const [, lookup] = writeDemoScripts(join(root, "scripts"));
    const chunks: Array<{ processed: number; failed: number; exitCode: number | null }> = [];
    load = startDemoWorkload({ pgbench: pgbench!, url: `${pgbouncerUrl}/ro`, scriptArgs: ["-f", lookup!.replace(/@\d+$/, "")], rate: 150, chunkSeconds: 5, onChunk: (r) => chunks.push(r) });

    // Metrics exist once a few ticks have stored samples (the examples read them).
    const token = readFileSync(join(dir, "api-token"), "utf8").trim();
    await waitUntil(async () => {
      const res = await fetch(`${apiUrl}/api/metrics/history?minutes=5`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
      const body = res?.ok ? ((await res.json()) as { items: Array<{ tps: number | null }> }) : undefined;
      return (body?.items.filter((i) => i.tps !== null).length ?? 0) >= 4;
    }, 60_000, () => `no metrics stored:\n${devOutput.slice(-3000)}`);

    let runId: string | undefined;
    for (const curl of curls) {
      const endpoint = endpointOf(requestOf(curl.command))!;
      let command = curl.command.split(" | ")[0]!;
      if (command.includes("<run_id>")) {
        expect(runId, "the POST /api/optimize example comes before <run_id>").toBeDefined();
        command = command.replace("<run_id>", runId!);
      }
      const localize = (text: string) => text.replaceAll(README_API, apiUrl).replaceAll(README_PG_URL, `postgres://postgres@127.0.0.1:${pgPort}/`);
      const script = `${localize(curl.prelude)}\n${localize(command)} -w '\\n%{http_code}'`;
      const out = execFileSync("bash", ["-c", script], { cwd: root, encoding: "utf8", timeout: 90_000 });
      const status = Number(out.slice(out.lastIndexOf("\n") + 1));
      const body: unknown = JSON.parse(out.slice(0, out.lastIndexOf("\n")));
      const label = `${curl.command}\n→ ${status} ${JSON.stringify(body).slice(0, 800)}`;
      expect(status, label).toBe(endpoint.status);
      if (curl.statedStatus !== undefined) expect(status, `README says ${curl.statedStatus}: ${label}`).toBe(curl.statedStatus);
      const shape = endpoint.shape.safeParse(body);
      expect(shape.success, `${label}\n${shape.error?.message}`).toBe(true);
      if (endpoint.status === 202) runId = (body as { run_id: string }).run_id;
      // The README's own pipeline (jq …) must run too.
      if (curl.command.includes(" | ")) {
        execFileSync("bash", ["-o", "pipefail", "-c", `${localize(curl.prelude)}\n${localize(curl.command)}`], { cwd: root, encoding: "utf8", timeout: 90_000 });
      }
    }

    // The canary run the README started, on the dev stack with its runner-owned PgBouncer.
    const run = await waitForRunEnd(apiUrl, token, runId!);
    const lines = run.events.map((e) => `${e.kind} ${e.state}: ${e.message}`);
    console.log(`[readme] canary run ${runId}: ${run.outcome}${run.reason ? ` (${run.reason})` : ""}\n  ${lines.join("\n  ")}`);
    expect(["promoted", "rolled_back"]).toContain(run.outcome);
    const text = lines.join("\n");
    expect(text).toMatch(/canary (launched|already running) at 127\.0\.0\.\d+/);
    expect(text).toMatch(/routed 5 %: planned share 5\.0 %, measured \d+\.\d %/);
    if (run.outcome === "rolled_back") expect(text).toMatch(/canary torn down; traffic is 100 % on the primary/);
    else expect(text).toMatch(/switchover done/);

    await load.stop();
    load = undefined;
    for (const c of chunks) expect(c.failed, JSON.stringify(c)).toBe(0);
    expect(chunks.reduce((n, c) => n + c.processed, 0)).toBeGreaterThan(0);

    // SIGTERM: everything goes, canary and restarted former primary included.
    dev.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(devOutput).toContain("stopped; nothing left running");
    const left = execFileSync("ps", ["-eo", "pid=,pgid=,args="], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.includes(dir) || pids.some((p) => new RegExp(`^\\s*\\d+\\s+${p}\\s`).test(l)))
      .filter((l) => !/\bps -eo\b/.test(l));
    expect(left, "processes of the stack still running").toEqual([]);
  }, 420_000);
});

async function waitUntil(done: () => boolean | Promise<boolean>, timeoutMs: number, why: () => string, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return;
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`exited early: ${why()}`);
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function waitForRunEnd(apiUrl: string, token: string, runId: string) {
  const headers = { authorization: `Bearer ${token}` };
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  for (;;) {
    // A dropped keep-alive connection is not the run's business: ask again.
    const status = (await fetch(`${apiUrl}/api/status`, { headers })
      .then((r) => r.json())
      .catch(() => null)) as { busy: boolean; unflushed_records: number; step: string | null } | null;
    if (status && !status.busy && status.unflushed_records === 0) break;
    if (Date.now() > deadline) throw new Error(`run ${runId} did not end in time: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return (await (await fetch(`${apiUrl}/api/optimization/${runId}`, { headers })).json()) as {
    outcome: string;
    reason: string | null;
    events: Array<{ kind: string; state: string; message: string }>;
  };
}
