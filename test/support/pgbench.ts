/**
 * pgbench as the client in tests: start a run in the background, read its summary. A run
 * "failed" a transaction when pgbench counted it failed or a client aborted (then pgbench exits
 * with status 2 and its counts are incomplete), so tests check all three.
 *
 * @example
 *   await pgbenchInit(primary.url("postgres"), 1);
 *   const run = startPgbench(["-n", "-S", "-c", "8", "-T", "10"], bouncer.url("app_ro"));
 *   const result = await run.done;
 *   expect(result).toMatchObject({ exitCode: 0, failed: 0, abortedClients: 0 });
 */
import { execFile, spawn } from "node:child_process";
import { serverToolPath } from "../../runner/postgres/control";

export interface PgbenchResult {
  exitCode: number | null;
  processed: number;
  failed: number;
  abortedClients: number;
  tps: number;
  stdout: string;
  stderr: string;
}

export interface PgbenchRun {
  pid: number;
  done: Promise<PgbenchResult>;
  /** Interrupt it (SIGINT), e.g. in afterAll after a failed test. */
  stop(): void;
}

function connArgs(url: string): string[] {
  const u = new URL(url);
  return ["-h", u.hostname, "-p", u.port || "5432", "-U", decodeURIComponent(u.username) || "postgres", decodeURIComponent(u.pathname.slice(1)) || "postgres"];
}

export function pgbenchInit(url: string, scale = 1): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(serverToolPath("pgbench"), ["-i", "-s", String(scale), "-q", ...connArgs(url)], (err, _o, stderr) => (err ? reject(new Error(`pgbench -i failed: ${stderr}`)) : resolve())),
  );
}

export function startPgbench(args: string[], url: string): PgbenchRun {
  const child = spawn(serverToolPath("pgbench"), [...args, ...connArgs(url)], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<PgbenchResult>((resolve) => {
    child.once("exit", (code) => {
      const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? NaN);
      resolve({
        exitCode: code,
        processed: num(/number of transactions actually processed: (\d+)/),
        failed: num(/number of failed transactions: (\d+)/),
        abortedClients: (stderr.match(/client \d+ (script \d+ )?aborted/g) ?? []).length,
        tps: num(/tps = ([\d.]+)/),
        stdout,
        stderr,
      });
    });
  });
  return {
    pid: child.pid!,
    done,
    stop: () => {
      if (child.exitCode === null) child.kill("SIGINT");
    },
  };
}
