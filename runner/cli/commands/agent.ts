/**
 * `pg2une agent --push <api-url> --target <name>`: the in-VM agent. Collects a raw sample from
 * the local PostgreSQL every --interval seconds and pushes it, signed, to the pg2une API's
 * POST /api/ingest. Runs until SIGTERM/SIGINT (or --count samples). See runner/agent/agent.ts.
 */
import pg from "pg";
import { z } from "zod";
import { MAX_TOP_STATEMENTS, MIN_WINDOW_SECONDS, TargetNameSchema } from "../../../src/core/metrics";
import { DEFAULT_BUFFER_SAMPLES, runAgent } from "../../agent/agent";
import { createIngestPusher, ingestEndpoint } from "../../agent/push";
import { log } from "../../server/log";
import { CliError, parseCommandArgs } from "../io";
import { resolveSigningKey } from "../keys";
import { redactUrl as redact } from "../../net/redact";
import { CONNECT_TIMEOUT_MS, parsePostgresUrl } from "./collect";

export const DEFAULT_AGENT_INTERVAL_SECONDS = 60;

export const USAGE = `Usage: pg2une agent --push <api-url> --target <name> [--interval 60] [--count N] [--url postgres://…]
                    [--key-id id --key-file secret.b64 | --config runner.json] [--buffer ${DEFAULT_BUFFER_SAMPLES}] [--top ${MAX_TOP_STATEMENTS}]

  Collects a raw metrics sample from PostgreSQL every --interval seconds and POSTs it, signed, to
  <api-url>/api/ingest. Logs one JSON line per event on stderr. Stops cleanly on SIGTERM/SIGINT.

  --push URL     the pg2une API (e.g. https://pg2une.example.workers.dev)
  --target NAME  the target these samples belong to (as the API knows it)
  --interval S   seconds between samples (${MIN_WINDOW_SECONDS}..3600, default ${DEFAULT_AGENT_INTERVAL_SECONDS})
  --count N      stop after N samples (and delivering them); default: run until stopped
  --url URL      the PostgreSQL to sample (default: TARGET_POSTGRES_URL)
  --key-id/--key-file, --config: the signing key (default: PG2UNE_RUNNER_KEYS; --key-id picks one)
  --buffer N     unsent samples kept while the API is unreachable (default ${DEFAULT_BUFFER_SAMPLES}; the oldest go first)
  --top N        pg_stat_statements entries per sample (1..${MAX_TOP_STATEMENTS})`;

const whole = (what: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${what} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`));

const ArgsSchema = z.object({
  push: z.url({ protocol: /^https?$/, message: "must be the pg2une API's http(s) URL" }),
  target: TargetNameSchema,
  interval: z
    .string()
    .regex(/^\d+(\.\d+)?$/, "interval must be a number of seconds")
    .transform(Number)
    .pipe(z.number().min(MIN_WINDOW_SECONDS, `interval must be at least ${MIN_WINDOW_SECONDS}`).max(3600, "interval must be at most 3600"))
    .optional(),
  count: whole("count", 1, 10_000_000).optional(),
  url: z.string().optional(),
  "key-id": z.string().optional(),
  "key-file": z.string().optional(),
  config: z.string().optional(),
  buffer: whole("buffer", 1, 100_000).optional(),
  top: whole("top", 1, MAX_TOP_STATEMENTS).optional(),
  positionals: z.array(z.string()).length(0, "takes no positional arguments"),
});

export async function run(argv: string[]): Promise<number> {
  if (!argv.includes("--push")) throw new CliError(`--push <api-url> is required\n\n${USAGE}`);
  if (!argv.includes("--target")) throw new CliError(`--target <name> is required\n\n${USAGE}`);
  const { values } = parseCommandArgs(
    argv,
    {
      push: { type: "string" },
      target: { type: "string" },
      interval: { type: "string" },
      count: { type: "string" },
      url: { type: "string" },
      "key-id": { type: "string" },
      "key-file": { type: "string" },
      config: { type: "string" },
      buffer: { type: "string" },
      top: { type: "string" },
    },
    ArgsSchema,
    USAGE,
  );
  const rawUrl = values.url ?? process.env.TARGET_POSTGRES_URL;
  if (!rawUrl) throw new CliError(`no PostgreSQL to sample: pass --url postgres://… or set TARGET_POSTGRES_URL\n\n${USAGE}`);
  const postgresUrl = parsePostgresUrl(rawUrl);
  const key = resolveSigningKey({ keyId: values["key-id"], keyFile: values["key-file"], configFile: values.config });
  ingestEndpoint(values.push); // a malformed base fails here, before anything runs

  const stop = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    log("info", "agent_stopping", { signal: name });
    stop.abort(new Error(name));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    const summary = await runAgent({
      target: values.target,
      intervalMs: (values.interval ?? DEFAULT_AGENT_INTERVAL_SECONDS) * 1000,
      count: values.count,
      bufferSamples: values.buffer,
      topStatements: values.top,
      pusher: createIngestPusher({ apiUrl: values.push, key }),
      signal: stop.signal,
      async connect() {
        const client = new pg.Client({ connectionString: postgresUrl.href, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: "pg2une-agent" });
        client.on("error", () => undefined); // surfaced by the next query instead
        try {
          await client.connect();
        } catch (err) {
          await client.end().catch(() => undefined);
          throw new Error(`cannot connect to ${redact(postgresUrl)}: ${(err as Error).message}`);
        }
        return client;
      },
    });
    // A clean stop by signal is success; with --count, every sample must have arrived.
    return summary.stoppedBy === "signal" || (summary.unsent === 0 && summary.rejected === 0 && summary.dropped === 0 && summary.collectFailures === 0) ? 0 : 1;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}
