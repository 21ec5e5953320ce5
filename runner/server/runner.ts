/**
 * The runner agent assembled: key ring, on-disk nonce cache and journal under the state dir,
 * the target connection, and the HTTP server with POST /v1/commands and GET /healthz.
 *
 * @example
 *   const runner = await startRunner(loadRunnerConfig({ env: process.env }));
 *   // … later
 *   await runner.close();
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS_PATH, parseKeyRing } from "../../src/protocol";
import { createCanaryRuntime } from "../canary/runtime";
import type { RunnerConfig } from "../config";
import { redactUrl } from "../net/redact";
import { targetConnector, withHostPort, type TargetConnector } from "../postgres/target";
import { rolloutState } from "../canary/state";
import { BRIEF_JOURNAL_OPTIONS, CommandJournal } from "../state/journal";
import { FileNonceStore } from "../state/nonce-file-store";
import { lockStateDir } from "../state/state-lock";
import { createCommandRoute } from "./command-route";
import { startRunnerServer, type RunningRunner } from "./http";
import { log } from "./log";

export class RunnerStartError extends Error {
  override name = "RunnerStartError";
}

export async function startRunner(config: RunnerConfig): Promise<RunningRunner> {
  let keys;
  try {
    keys = parseKeyRing(config.keys);
  } catch (err) {
    throw new RunnerStartError((err as Error).message);
  }
  if (keys.size === 0) {
    throw new RunnerStartError("no signing keys: set PG2UNE_RUNNER_KEYS=id:base64secret (e.g. default:$(openssl rand -base64 32)); without one the runner would accept no command");
  }
  mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
  let unlock: () => void;
  try {
    unlock = lockStateDir(config.stateDir);
  } catch (err) {
    throw new RunnerStartError((err as Error).message);
  }
  try {
    const nonces = await FileNonceStore.open(join(config.stateDir, "nonces.log"), { nowSeconds: Math.floor(Date.now() / 1000) });
    const journal = await CommandJournal.open(join(config.stateDir, "journal"), { onWarning: (event, fields) => log("warn", event, fields) });
    const briefJournal = await CommandJournal.open(join(config.stateDir, "journal-brief"), {
      ...BRIEF_JOURNAL_OPTIONS,
      onWarning: (event, fields) => log("warn", event, fields),
    });
    const canary = createCanaryRuntime(config);
    const route = createCommandRoute({
      keys,
      nonces,
      journal,
      briefJournal,
      target: targetConnector(() => currentPrimaryUrl(config.targetUrl, config.stateDir)),
      canaryTarget: () => currentCanaryTarget(config.targetUrl, config.stateDir),
      targetKey: targetKeyOf(config.targetUrl),
      allowKnobs: config.allowKnobs,
      commandTimeoutMs: config.commandTimeoutMs,
      canary,
    });
    const server = await startRunnerServer(config, { [`POST ${COMMANDS_PATH}`]: route });
    log("info", "runner_ready", { keyIds: [...keys.keys()], stateDir: config.stateDir, target: config.targetUrl ? redactUrl(config.targetUrl) : undefined, rememberedNonces: nonces.size });
    return {
      ...server,
      async close() {
        canary.close();
        await server.close();
        await nonces.close();
        unlock();
      },
    };
  } catch (err) {
    unlock();
    throw err;
  }
}

/** The lock key of the target: its address, without credentials. */
function targetKeyOf(url: string | undefined): string {
  if (!url) return "(no target)";
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
  } catch {
    return url;
  }
}


/**
 * After a switchover the promoted canary is the primary: every command (collect, apply_config,
 * indexes …) must follow it, not the address the runner was started with.
 */
export function currentPrimaryUrl(targetUrl: string | undefined, stateDir: string): string | undefined {
  if (!targetUrl) return undefined;
  const primary = rolloutState(stateDir).read()?.primary;
  return primary ? withHostPort(targetUrl, primary.host, primary.port) : targetUrl;
}

/**
 * The running canary (rollout.json, written by launch_canary, cleared by teardown and at
 * switchover), reached with the target's credentials; undefined when none runs. collect with
 * node "canary" reads it here.
 */
export function currentCanaryTarget(targetUrl: string | undefined, stateDir: string): TargetConnector | undefined {
  const canary = targetUrl ? rolloutState(stateDir).read()?.canary : undefined;
  return canary && targetUrl ? targetConnector(withHostPort(targetUrl, canary.host, canary.port)) : undefined;
}

