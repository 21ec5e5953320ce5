/**
 * `pg2une send` as an operator runs it: a real CLI process against a real runner process.
 * The "unverifiable answer" case uses a real man-in-the-middle: an HTTP proxy that changes one
 * byte of the runner's answer on its way back.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../runner/net/ports";
import { startTestCluster, type TestCluster } from "../../support/postgres";
import { startRunnerProcess, type RunnerProcess } from "../../support/runner-process";
import { TEST_RUNNER_KEYS } from "../../support/worker-constants";

const BIN = fileURLToPath(new URL("../../../runner/bin/pg2une.js", import.meta.url));
const SECRET = TEST_RUNNER_KEYS.split(":")[1]!;
const WRONG_SECRET = btoa(String.fromCharCode(...new Uint8Array(32).fill(9)));

let cluster: TestCluster;
let runner: RunnerProcess;
let dir: string;
let proxy: Server;
let proxyUrl: string;

function pg2une(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = { ...process.env };
  delete clean.PG2UNE_RUNNER_KEYS;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(async () => {
  cluster = await startTestCluster();
  runner = await startRunnerProcess({ targetUrl: cluster.url(), keys: TEST_RUNNER_KEYS });
  dir = mkdtempSync(join(tmpdir(), "pg2une-send-"));
  // Forwards to the runner and alters the answer: "4MB" → "5MB" (one byte).
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const upstream = await fetch(runner.url + req.url, {
        method: req.method,
        headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith("x-pg2une-") || k === "content-type")) as Record<string, string>,
        body: Buffer.concat(chunks),
      });
      const body = (await upstream.text()).replace('"display":"4MB"', '"display":"5MB"');
      res.writeHead(upstream.status, Object.fromEntries([...(upstream.headers as unknown as Iterable<[string, string]>)].filter(([k]) => k.startsWith("x-pg2une-") || k === "content-type")));
      res.end(body);
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => proxy.listen(port, "127.0.0.1", () => r()));
  proxyUrl = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
  await runner?.destroy();
  await cluster?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("pg2une send", () => {
  it("signs, sends, verifies and prints the answer (key file)", async () => {
    const cmd = file("read.json", JSON.stringify({ type: "read_config", payload: { knobs: ["work_mem"] } }));
    const keyFile = file("key.b64", `${SECRET}\n`);
    const out = await pg2une(["send", runner.url, cmd, "--key-id", "test", "--key-file", keyFile]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^verified answer from http:\/\/127\.0\.0\.1:\d+ \(HTTP 200, key test, command [0-9a-f-]{36}\)/);
    expect(out.stdout).toContain('"display": "4MB"');
  });

  it("takes keys from PG2UNE_RUNNER_KEYS; --json prints a machine-readable answer", async () => {
    const cmd = file("read2.json", JSON.stringify({ type: "read_config", payload: { knobs: ["jit"] } }));
    const out = await pg2une(["send", runner.url, cmd, "--json"], { PG2UNE_RUNNER_KEYS: TEST_RUNNER_KEYS });
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout) as { status: number; verified: boolean; body: { ok: boolean; result: { settings: Array<{ name: string }> } } };
    expect(json).toMatchObject({ status: 200, verified: true, keyId: "test", body: { ok: true } });
    expect(json.body.result.settings.map((s) => s.name)).toEqual(["jit"]);
  });

  it("a wrong key: non-zero exit and a clear message", async () => {
    const cmd = file("read3.json", JSON.stringify({ type: "read_config", payload: {} }));
    const wrong = await pg2une(["send", runner.url, cmd, "--key-id", "test", "--key-file", file("wrong.b64", WRONG_SECRET)]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe("");
    expect(wrong.stderr).toMatch(/runner refused the request \(401 bad_signature\)/);
    expect(wrong.stderr).toMatch(/does not accept key "test"/);

    const unknown = await pg2une(["send", runner.url, cmd], { PG2UNE_RUNNER_KEYS: `nobody:${SECRET}` });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/401 unknown_key/);
  });

  it("an answer altered on the way: non-zero exit, nothing printed as if trusted", async () => {
    const cmd = file("read4.json", JSON.stringify({ type: "read_config", payload: { knobs: ["work_mem"] } }));
    const out = await pg2une(["send", proxyUrl, cmd], { PG2UNE_RUNNER_KEYS: TEST_RUNNER_KEYS });
    expect(out.code).toBe(1);
    expect(out.stdout).toBe("");
    expect(out.stderr).toMatch(/fails verification \(bad_signature\)/);
    expect(out.stderr).not.toContain("5MB");
  });

  it("a refused command prints the verified refusal and exits 1", async () => {
    const cmd = file("bad.json", JSON.stringify({ type: "apply_config", payload: { settings: { work_mem: "-1" } } }));
    const out = await pg2une(["send", runner.url, cmd], { PG2UNE_RUNNER_KEYS: TEST_RUNNER_KEYS });
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/verified answer .*HTTP 400/);
    expect(out.stderr).toMatch(/runner answered 400 invalid_config: .*work_mem/);
  });

  it("bad input is refused before anything is sent", async () => {
    const notJson = await pg2une(["send", runner.url, file("x.json", "{")], { PG2UNE_RUNNER_KEYS: TEST_RUNNER_KEYS });
    expect(notJson).toMatchObject({ code: 2, stderr: expect.stringMatching(/is not JSON/) });
    const unknown = await pg2une(["send", runner.url, file("y.json", '{"type":"rm_rf"}')], { PG2UNE_RUNNER_KEYS: TEST_RUNNER_KEYS });
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown command type "rm_rf"/) });
    const noKey = await pg2une(["send", runner.url, file("z.json", '{"type":"read_config"}')]);
    expect(noKey).toMatchObject({ code: 2, stderr: expect.stringMatching(/no key/) });
    const noUrl = await pg2une(["send", "nope", file("w.json", '{"type":"read_config"}')]);
    expect(noUrl).toMatchObject({ code: 2, stderr: expect.stringMatching(/runner's URL/) });
  });
});
