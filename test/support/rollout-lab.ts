/**
 * A real target for the rollout tests that run inside workerd, which cannot spawn processes or
 * open database sockets: a loopback HTTP service in the globalSetup's Node process that, on
 * request, starts its own PostgreSQL cluster and runner (so ALTER SYSTEM changes never touch the
 * cluster other worker tests share), runs setup SQL, starts and stops pgbench loads, and stops
 * or restarts the runner (an unreachable runner, on purpose).
 *
 * Started lazily: worker tests that do not ask for it cost nothing.
 *
 *   POST   /stack              → { runnerUrl }           cluster + runner (idempotent)
 *   POST   /sql   {sql}        → { rows }                on the lab cluster's postgres database
 *   POST   /load  {script, clients, seconds} → { id }    pgbench -n -f <script>
 *   DELETE /load/:id          → pgbench summary + errorLines (stops it if still running)
 *   POST   /runner/stop | /runner/start
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestCluster, type TestCluster } from "./postgres";
import { pgbenchSummary, startPgbench, type PgbenchRun } from "./pgbench";
import { startRunnerProcess, type RunnerProcess } from "./runner-process";

export interface RolloutLab {
  url: string;
  close(): Promise<void>;
}

export async function startRolloutLab(keys: string): Promise<RolloutLab> {
  let cluster: TestCluster | undefined;
  let runner: RunnerProcess | undefined;
  let starting: Promise<void> | undefined;
  const loads = new Map<string, { run: PgbenchRun; dir: string }>();
  let nextLoad = 1;

  async function ensureStack(): Promise<void> {
    starting ??= (async () => {
      cluster = await startTestCluster();
      runner = await startRunnerProcess({ targetUrl: cluster.url("postgres"), keys });
    })();
    await starting;
  }

  async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
    let text = "";
    for await (const chunk of req) text += String(chunk);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  function send(res: ServerResponse, status: number, value: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        const path = req.url ?? "/";
        if (req.method === "POST" && path === "/stack") {
          await ensureStack();
          return send(res, 200, { runnerUrl: runner!.url });
        }
        await ensureStack();
        if (req.method === "POST" && path === "/sql") {
          const { sql } = await body(req);
          return send(res, 200, { rows: await cluster!.query(String(sql)) });
        }
        if (req.method === "POST" && path === "/load") {
          const b = await body(req);
          const dir = mkdtempSync(join(tmpdir(), "pg2une-lab-load-"));
          const file = join(dir, "script.sql");
          writeFileSync(file, String(b.script));
          const run = startPgbench(cluster!.url("postgres"), { clients: Number(b.clients ?? 2), threads: 1, seconds: Number(b.seconds ?? 60), script: file });
          const id = String(nextLoad++);
          loads.set(id, { run, dir });
          return send(res, 200, { id, pid: run.pid });
        }
        const load = /^\/load\/(\d+)$/.exec(path);
        if (req.method === "DELETE" && load) {
          const entry = loads.get(load[1]!);
          if (!entry) return send(res, 404, { error: "no such load" });
          loads.delete(load[1]!);
          await entry.run.stop();
          rmSync(entry.dir, { recursive: true, force: true });
          const summary = pgbenchSummary(await entry.run.done);
          // Stopped early (SIGINT) pgbench prints no totals, but every failure it met is a line of output.
          const errorLines = summary.output.split("\n").filter((l) => /error|abort/i.test(l));
          return send(res, 200, { ...summary, errorLines });
        }
        if (req.method === "POST" && path === "/runner/stop") {
          await runner!.stop();
          return send(res, 200, { stopped: true });
        }
        if (req.method === "POST" && path === "/runner/start") {
          await runner!.restart();
          return send(res, 200, { runnerUrl: runner!.url });
        }
        send(res, 404, { error: `no route ${req.method} ${path}` });
      } catch (err) {
        send(res, 500, { error: String((err as Error).message ?? err) });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const { run, dir } of loads.values()) {
        await run.stop();
        rmSync(dir, { recursive: true, force: true });
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runner?.destroy();
      await cluster?.destroy();
    },
  };
}
