/**
 * `pg2une runner [--config file] [--host H] [--port N] [--state-dir D]`: the on-host agent.
 * Env: TARGET_POSTGRES_URL, PG2UNE_RUNNER_KEYS, PG2UNE_RUNNER_PORT, PG2UNE_RUNNER_STATE_DIR,
 * PG2UNE_RUNNER_ALLOW_KNOBS, PG2UNE_RUNNER_COMMAND_TIMEOUT_MS.
 */
import { z } from "zod";
import { loadRunnerConfig } from "../../config";
import { startRunner } from "../../server/runner";
import { log } from "../../server/log";
import { CliError, parseCommandArgs } from "../io";

export const USAGE = `Usage: pg2une runner [--config file.json] [--host 127.0.0.1] [--port 7070] [--state-dir .pg2une/runner]
Env: TARGET_POSTGRES_URL, PG2UNE_RUNNER_KEYS (id:base64secret,...), PG2UNE_RUNNER_HOST, PG2UNE_RUNNER_PORT,
     PG2UNE_RUNNER_STATE_DIR, PG2UNE_RUNNER_ALLOW_KNOBS (name,...), PG2UNE_RUNNER_COMMAND_TIMEOUT_MS
Takes signed commands on POST /v1/commands; GET /healthz is open and says nothing secret.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    { config: { type: "string" }, host: { type: "string" }, port: { type: "string" }, "state-dir": { type: "string" } },
    z.object({
      config: z.string().optional(),
      host: z.string().optional(),
      port: z.string().regex(/^\d+$/, "must be a port number").optional(),
      "state-dir": z.string().optional(),
      positionals: z.array(z.string()).max(0, "takes no positional arguments"),
    }),
    USAGE,
  );
  let config;
  try {
    config = loadRunnerConfig({
      file: values.config,
      flags: { host: values.host, port: values.port, stateDir: values["state-dir"] },
    });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  let runner;
  try {
    runner = await startRunner(config);
  } catch (err) {
    throw new CliError((err as Error).message, 1);
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log("info", "runner_stopping", { signal });
      void runner.close().then(resolve);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  return 0;
}
