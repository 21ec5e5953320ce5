/**
 * Which signing key a CLI command uses (`pg2une send`, `pg2une agent`): --key-file (a base64
 * secret) with --key-id, else PG2UNE_RUNNER_KEYS, else the "keys" of a runner config file;
 * --key-id picks one when there are several.
 */
import { readFileSync } from "node:fs";
import { parseKeyRing, parseSecret, type SigningKey } from "../../src/protocol";
import { loadRunnerConfig } from "../config";
import { CliError } from "./io";

export interface KeyChoice {
  keyId?: string | undefined;
  keyFile?: string | undefined;
  configFile?: string | undefined;
}

export function resolveSigningKey({ keyId, keyFile, configFile }: KeyChoice): SigningKey {
  if (keyFile !== undefined) {
    if (!keyId) throw new CliError("--key-file needs --key-id (the id the other side knows this secret by)");
    let text: string;
    try {
      text = readFileSync(keyFile, "utf8");
    } catch (err) {
      throw new CliError(`cannot read --key-file ${keyFile}: ${(err as Error).message}`);
    }
    const secret = parseSecret(text.trim(), `--key-file ${keyFile}`);
    if (!secret.ok) throw new CliError(secret.message);
    return { id: keyId, secret: secret.secret };
  }
  let ring;
  try {
    ring = parseKeyRing(loadRunnerConfig({ file: configFile }).keys, configFile ? `keys (PG2UNE_RUNNER_KEYS or ${configFile})` : "PG2UNE_RUNNER_KEYS");
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (ring.size === 0) throw new CliError("no key: pass --key-id and --key-file, or set PG2UNE_RUNNER_KEYS=id:base64secret, or --config with \"keys\"");
  if (keyId) {
    const key = ring.get(keyId);
    if (!key) throw new CliError(`--key-id ${keyId} is not among the configured keys (${[...ring.keys()].join(", ")})`);
    return key;
  }
  if (ring.size > 1) throw new CliError(`several keys configured (${[...ring.keys()].join(", ")}): pick one with --key-id`);
  return [...ring.values()][0]!;
}
