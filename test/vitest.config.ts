/**
 * Four projects, all against real components:
 *   core   pure logic (src/core, src/protocol) in Node
 *   worker the Worker + Durable Object inside workerd (@cloudflare/vitest-pool-workers),
 *          talking to a real PostgreSQL through the Neon driver and the WebSocket→TCP bridge
 *   runner the Node runner/CLI against real PostgreSQL / PgBouncer processes
 *   e2e    whole-stack scenarios
 */
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

export default defineConfig({
  test: {
    root,
    projects: [
      {
        test: {
          name: "core",
          root,
          include: ["test/core/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: `${root}/wrangler.toml` },
            miniflare: {
              bindings: {
                DATABASE_URL: inject("databaseUrl"),
                NEON_WS_PROXY: inject("neonWsProxy"),
                PG2UNE_API_TOKEN: inject("apiToken"),
                PG2UNE_RUNNER_KEYS: inject("runnerKeys"),
                // Rollout tests force bad configurations through the real path (src/api/optimize.ts).
                ALLOW_FORCED_CONFIG: "true",
              },
            },
          })),
        ],
        test: {
          name: "worker",
          root,
          include: ["test/worker/**/*.test.ts"],
          globalSetup: ["test/support/worker-global-setup.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "runner",
          root,
          include: ["test/runner/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "e2e",
          root,
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 600_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
