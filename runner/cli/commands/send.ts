/**
 * `pg2une send <runner-url> <command.json> [--key-id id --key-file f] [--config file] [--json]`:
 * sign one command, send it, verify the runner's signed answer and print it. For operators
 * debugging a host. command.json: `{"type": "read_config", "payload": {}}` ("-" reads stdin).
 * Keys: --key-file (base64 secret) with --key-id, else PG2UNE_RUNNER_KEYS, else the config file.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { CommandBodySchema, COMMAND_TYPES, isCommandType } from "../../../src/protocol";
import { createRunnerClient, RunnerUnreachableError, RunnerUnverifiedResponseError } from "../../../src/runner-client";
import { CliError, parseCommandArgs, printJson } from "../io";
import { resolveSigningKey } from "../keys";

export const USAGE = `Usage: pg2une send <runner-url> <command.json|-> [--key-id id] [--key-file secret.b64] [--config runner.json] [--command-id id] [--json]
  command.json  {"type": "read_config", "payload": {}}   (types: ${COMMAND_TYPES.join(", ")})
  Keys: --key-file holds the base64 secret (needs --key-id); otherwise PG2UNE_RUNNER_KEYS (id:base64secret,...)
        or the "keys" of --config; --key-id picks one when there are several.
  --command-id  resend under a known id (the runner returns the journaled first result)`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      "key-id": { type: "string" },
      "key-file": { type: "string" },
      config: { type: "string" },
      "command-id": { type: "string" },
      json: { type: "boolean" },
    },
    z.object({
      "key-id": z.string().optional(),
      "key-file": z.string().optional(),
      config: z.string().optional(),
      "command-id": z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "1–128 of A-Z a-z 0-9 . _ : -").optional(),
      json: z.boolean().optional(),
      positionals: z.tuple([z.string().url("must be the runner's URL, e.g. http://127.0.0.1:7070"), z.string().min(1)], {
        message: "expected <runner-url> <command.json>",
      }),
    }),
    USAGE,
  );
  const [url, commandFile] = values.positionals;
  const command = readCommand(commandFile);
  const key = resolveSigningKey({ keyId: values["key-id"], keyFile: values["key-file"], configFile: values.config });
  const client = createRunnerClient({ url, key, retry: { maxAttempts: 1 } });

  let answer;
  try {
    answer = await client.sendRaw(command, values["command-id"] ? { commandId: values["command-id"] } : {});
  } catch (err) {
    if (err instanceof RunnerUnverifiedResponseError) {
      throw new CliError(`${err.message}\nThe answer was not printed because it cannot be trusted (wrong key on one side, or something between us altered it).`, 1);
    }
    if (err instanceof RunnerUnreachableError) throw new CliError(err.message, 1);
    throw err;
  }
  const body = answer.body as { ok?: boolean; error?: string; reason?: string };
  if (answer.status === 401) {
    const hint =
      body.reason === "bad_signature" || body.reason === "unknown_key"
        ? `\nThe runner does not accept key "${key.id}": check that --key-id/--key-file (or PG2UNE_RUNNER_KEYS) match the runner's PG2UNE_RUNNER_KEYS.`
        : "";
    throw new CliError(`runner refused the request (401 ${body.reason ?? "?"}): ${body.error ?? "no message"}${hint}`, 1);
  }
  if (values.json) {
    printJson({ status: answer.status, verified: answer.verified, keyId: key.id, commandId: answer.commandId, journal: answer.replay, body: answer.body });
  } else {
    process.stdout.write(
      `verified answer from ${url} (HTTP ${answer.status}, key ${key.id}, command ${answer.commandId}${answer.replay ? `, ${answer.replay} from the journal` : ""})\n`,
    );
    printJson(answer.body);
  }
  if (answer.status >= 400) {
    process.stderr.write(`pg2une send: runner answered ${answer.status} ${body.reason ?? ""}: ${body.error ?? ""}\n`);
    return 1;
  }
  return 0;
}

function readCommand(file: string): { type: string; payload?: unknown } {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = CommandBodySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`${file}: ${issue?.path.join(".") || "(root)"}: ${issue?.message}; expected {"type": "read_config", "payload": {}}`);
  }
  if (!isCommandType(parsed.data.type)) throw new CliError(`${file}: unknown command type "${parsed.data.type}"; known: ${COMMAND_TYPES.join(", ")}`);
  return parsed.data;
}
