/**
 * The real Worker (src/index.ts, bundled by wrangler, run by workerd) on a loopback port, for
 * Node-side tests that need an HTTP API to talk to (the in-VM agent pushing to /api/ingest).
 * Uses wrangler's `unstable_dev`; bindings come from wrangler.toml plus `vars` (secrets included,
 * test-only values). Durable Object storage lives in a temp dir removed by stop().
 *
 * @example
 *   const worker = await startWorkerDev({ vars: { DATABASE_URL, NEON_WS_PROXY, PG2UNE_API_TOKEN, PG2UNE_RUNNER_KEYS } });
 *   await fetch(`${worker.url}/`);
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
  stop(): Promise<void>;
}

export async function startWorkerDev(opts: { vars: Record<string, string>; port?: number }): Promise<WorkerDev> {
  // Offline and quiet: no request.cf lookup, no telemetry.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
  process.env.WRANGLER_SEND_METRICS = "false";
  const { unstable_dev } = await import("wrangler");
  const port = opts.port ?? (await freePort());
  const persistTo = mkdtempSync(join(tmpdir(), "pg2une-worker-"));
  const worker = await unstable_dev(join(ROOT, "src/index.ts"), {
    config: join(ROOT, "wrangler.toml"),
    ip: "127.0.0.1",
    port,
    inspectorPort: await freePort(),
    local: true,
    persistTo,
    vars: opts.vars,
    logLevel: "warn",
    experimental: { disableExperimentalWarning: true, testMode: true, disableDevRegistry: true },
  });
  return {
    url: `http://127.0.0.1:${worker.port}`,
    port: worker.port,
    async stop() {
      await worker.stop();
      rmSync(persistTo, { recursive: true, force: true });
    },
  };
}
