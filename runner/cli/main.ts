/**
 * `pg2une <command>`: the one binary for operators, the on-host runner and the in-VM agent.
 * Each command lives in runner/cli/commands/<name>.ts and exports `USAGE` and
 * `run(argv): Promise<number>`;
 * it is imported only when invoked, so `pg2une --help` starts fast.
 */
import { CliError } from "./io";

export interface CommandModule {
  /** Printed for `pg2une <command> --help` (and -h). */
  USAGE: string;
  run(argv: string[]): Promise<number>;
}

interface CommandEntry {
  summary: string;
  load: () => Promise<CommandModule>;
}

/** Add a command here: its one-line summary and its module. */
export const COMMANDS: Record<string, CommandEntry> = {
  collect: { summary: "read metrics from a PostgreSQL: one raw sample, or --count N derived snapshots", load: () => import("./commands/collect") },
  detect: { summary: "run CUSUM, E-Divisive, USL, workload class … over a metrics history file", load: () => import("./commands/detect") },
  rules: { summary: "evaluate Datalog rules (.dl) over facts (JSON) and explain why a fact holds", load: () => import("./commands/rules") },
  recommend: { summary: "PGTune's recommendation vs the server's current settings (restart needed or not)", load: () => import("./commands/recommend") },
  propose: { summary: "ask the Bayesian optimizer for the next point: --space s.json --observations o.json", load: () => import("./commands/propose") },
  "advise-indexes": { summary: "indexes that would cut the heaviest queries' cost (HypoPG); --apply builds, measures, keeps or drops", load: () => import("./commands/advise-indexes") },
  dev: { summary: "run the whole local stack (PostgreSQL, bridge, runner, Worker with cron)", load: () => import("./commands/dev") },
  agent: { summary: "the in-VM agent: collect every --interval seconds and push signed samples to --push <api-url>/api/ingest", load: () => import("./commands/agent") },
  runner: { summary: "start the on-host runner agent (signed commands on 127.0.0.1:7070)", load: () => import("./commands/runner") },
  send: { summary: "sign a command, send it to a runner, verify and print the answer", load: () => import("./commands/send") },
  "db-migrate": { summary: "apply migrations/ to DATABASE_URL (idempotent)", load: () => import("./commands/db-migrate") },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    "pg2une — PostgreSQL auto-tuner",
    "",
    "Usage: pg2une <command> [options]",
    "",
    "Commands:",
    ...lines,
    "",
    "Run `pg2une <command> --help` for a command's options. Most commands take --json.",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (name === "--version" || name === "-v") {
    const { VERSION } = await import("../../src/version");
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`pg2une: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    const command = await entry.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      process.stdout.write(`${command.USAGE}\n`);
      return 0;
    }
    return await command.run(rest);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`pg2une ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`pg2une ${name}: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
