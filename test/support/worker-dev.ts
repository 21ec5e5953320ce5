/**
 * The real Worker (src/index.ts, bundled by wrangler, run by workerd) on a loopback port, for
 * Node-side tests that need its HTTP API: wrangler's `unstable_dev` with the bindings of
 * wrangler.toml plus `vars` (secrets included, test-only values). Durable Object storage and
 * alarms live in a temp dir; `restart()` stops the Worker and starts it again on the same dir and
 * port, which is how a test evicts every Durable Object mid-run.
 *
 * @example
 *   const worker = await startWorkerDev({ vars: { DATABASE_URL, NEON_WS_PROXY, PG2UNE_API_TOKEN, PG2UNE_RUNNER_KEYS } });
 *   await fetch(`${worker.url}/`);
 *   await worker.restart();
 *   await worker.stop();
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../runner/net/ports";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface WorkerDev {
  url: string;
  port: number;
  /** Stop and start again on the same port and state dir (Durable Objects and their alarms survive). */
  restart(): Promise<void>;
  /** Stops the Worker; the state dir is removed unless keepState was asked and removeState is false. */
  stop(opts?: { removeState?: boolean }): Promise<void>;
}

export interface WorkerDevOptions {
  vars: Record<string, string>;
  port?: number;
  /** Keep the state dir on stop() unless stop({ removeState: true }). */
  keepState?: boolean;
  /** Serve GET /__scheduled?time=<ms>: runs the Worker's scheduled() handler (wrangler --test-scheduled). */
  testScheduled?: boolean;
}

export async function startWorkerDev(opts: WorkerDevOptions): Promise<WorkerDev> {
  // Offline and quiet: no request.cf lookup, no telemetry.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
  process.env.WRANGLER_SEND_METRICS = "false";
  const { unstable_dev } = await import("wrangler");
  const port = opts.port ?? (await freePort());
  const persistTo = mkdtempSync(join(tmpdir(), "pg2une-worker-"));
  const launch = async () =>
    unstable_dev(join(ROOT, "src/index.ts"), {
      config: join(ROOT, "wrangler.toml"),
      ip: "127.0.0.1",
      port,
      inspectorPort: await freePort(),
      local: true,
      persistTo,
      vars: opts.vars,
      logLevel: "warn",
      experimental: { disableExperimentalWarning: true, testMode: true, disableDevRegistry: true, testScheduled: opts.testScheduled ?? false },
    });
  let worker = await launch();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async restart() {
      await worker.stop();
      worker = await launch();
    },
    async stop(stopOpts = {}) {
      await worker.stop();
      if (!opts.keepState || stopOpts.removeState) rmSync(persistTo, { recursive: true, force: true });
    },
  };
}
