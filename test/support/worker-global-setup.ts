/**
 * Runs in Node before the Workers-pool tests: a real PostgreSQL for pg2une's own database, the
 * WebSocket→TCP bridge the Neon driver needs, migrations applied, and a real runner process
 * (target: the same cluster, keys: TEST_RUNNER_KEYS) for the Worker-side runner client.
 * Workers-pool tests cannot spawn processes or read host env, so the URLs reach them through
 * `provide` → miniflare bindings or `inject()`.
 */
import type { TestProject } from "vitest/node";
import { startBridge } from "../../runner/bridge/ws-tcp-bridge";
import { migrateDatabase } from "../../runner/db/migrate";
import { freePort } from "../../runner/net/ports";
import { startTestCluster } from "./postgres";
import { startRolloutLab } from "./rollout-lab";
import { startRunnerProcess } from "./runner-process";
import { TEST_API_TOKEN, TEST_RUNNER_KEYS } from "./worker-constants";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    neonWsProxy: string;
    apiToken: string;
    runnerKeys: string;
    /** A real runner on 127.0.0.1 acting on the test cluster. */
    runnerUrl: string;
    /** A loopback URL where nothing listens (unreachable-runner tests). */
    deadRunnerUrl: string;
    /** The rollout tests' own target: cluster, runner and pgbench loads on demand (rollout-lab.ts). */
    rolloutLabUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const cluster = await startTestCluster();
  await cluster.query("create database pg2une");
  const databaseUrl = cluster.url("pg2une");
  await migrateDatabase(databaseUrl);
  const bridge = await startBridge();
  const runner = await startRunnerProcess({ targetUrl: cluster.url("postgres"), keys: TEST_RUNNER_KEYS });
  project.provide("databaseUrl", databaseUrl);
  project.provide("neonWsProxy", bridge.proxy);
  project.provide("apiToken", TEST_API_TOKEN);
  project.provide("runnerKeys", TEST_RUNNER_KEYS);
  project.provide("runnerUrl", runner.url);
  project.provide("deadRunnerUrl", `http://127.0.0.1:${await freePort()}`);
  const lab = await startRolloutLab(TEST_RUNNER_KEYS);
  project.provide("rolloutLabUrl", lab.url);
  return async () => {
    await lab.close();
    await runner.destroy();
    await bridge.close();
    await cluster.destroy();
  };
}
