/**
 * Runs in Node before the Workers-pool tests: a real PostgreSQL for pg2une's own database, the
 * WebSocket→TCP bridge the Neon driver needs, migrations applied. Workers-pool tests cannot
 * spawn processes or read host env, so the URLs reach them through `provide` → miniflare bindings.
 */
import type { TestProject } from "vitest/node";
import { startBridge } from "../../runner/bridge/ws-tcp-bridge";
import { migrateDatabase } from "../../runner/db/migrate";
import { startTestCluster } from "./postgres";
import { TEST_API_TOKEN, TEST_RUNNER_KEYS } from "./worker-constants";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    neonWsProxy: string;
    apiToken: string;
    runnerKeys: string;
  }
}

export default async function setup(project: TestProject) {
  const cluster = await startTestCluster();
  await cluster.query("create database pg2une");
  const databaseUrl = cluster.url("pg2une");
  await migrateDatabase(databaseUrl);
  const bridge = await startBridge();
  project.provide("databaseUrl", databaseUrl);
  project.provide("neonWsProxy", bridge.proxy);
  project.provide("apiToken", TEST_API_TOKEN);
  project.provide("runnerKeys", TEST_RUNNER_KEYS);
  return async () => {
    await bridge.close();
    await cluster.destroy();
  };
}
