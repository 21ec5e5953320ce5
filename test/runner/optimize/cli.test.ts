/**
 * `pg2une recommend` against a real cluster, and `pg2une propose` end to end, through the
 * real CLI binary.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCluster, type TestCluster } from "../../support/postgres";

const BIN = fileURLToPath(new URL("../../../runner/bin/pg2une.js", import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
    });
  });
}

describe("pg2une recommend against a real cluster", () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster({ settings: { work_mem: "8MB" } });
  });
  afterAll(async () => cluster?.destroy());

  it("lists each setting with current, recommended, reason and restart-needed (--json)", async () => {
    const r = await cli(["recommend", cluster.url(), "--ram", "4GB", "--cpus", "2", "--storage", "ssd", "--type", "oltp", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { server: { version: number }; settings: Array<Record<string, unknown>> };
    expect(out.server.version).toBe(15);
    const byName = Object.fromEntries(out.settings.map((s) => [s.name, s]));
    expect(byName.shared_buffers).toMatchObject({ current: "128MB", recommended: "1GB", restartRequired: true, context: "postmaster" });
    expect(byName.work_mem).toMatchObject({ current: "8MB", recommended: "4MB", restartRequired: false, context: "user" });
    expect(byName.max_connections).toMatchObject({ current: "100", recommended: "300", restartRequired: true });
    expect(byName.random_page_cost).toMatchObject({ current: "4", recommended: "1.1", restartRequired: false });
    for (const s of out.settings) {
      expect(typeof s.reason).toBe("string");
      expect(s.current).not.toBeNull();
      expect(typeof s.restartRequired).toBe("boolean");
    }
  });

  it("prints a human table without --json", async () => {
    const r = await cli(["recommend", cluster.url(), "--ram", "4GB", "--cpus", "2", "--storage", "ssd"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/setting\s+current\s+recommended\s+restart\s+reason/);
    expect(r.stdout).toMatch(/shared_buffers\s+128MB\s+1GB\s+yes/);
  });

  it.each([
    [["--ram", "4", "--cpus", "2", "--storage", "ssd"], /--ram: "4" is not a size like 4GB/],
    [["--ram", "4GB", "--cpus", "two", "--storage", "ssd"], /--cpus: must be a positive integer/],
    [["--ram", "4GB", "--cpus", "2", "--storage", "tape"], /--storage: is required: one of ssd, hdd, san, nvme/],
    [["--ram", "4GB", "--cpus", "2", "--storage", "ssd", "--type", "banana"], /--type: must be one of web, oltp, dw, desktop, mixed/],
    [["--cpus", "2", "--storage", "ssd"], /--ram: is required/],
  ])("bad flags %j → clear error, exit 2", async (flags, message) => {
    const r = await cli(["recommend", cluster.url(), ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe("");
  });

  it("an unreachable server is an error naming the URL without its password", async () => {
    const r = await cli(["recommend", "postgres://me:secret@127.0.0.1:1/db", "--ram", "4GB", "--cpus", "2", "--storage", "ssd"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read settings from postgres:\/\/me:\*\*\*@127\.0\.0\.1:1\/db/);
    expect(r.stderr).not.toMatch(/secret/);
  });
});

describe("pg2une propose", () => {
  const dir = mkdtempSync(join(tmpdir(), "pg2une-propose-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
    return path;
  };
  const space = file("s.json", {
    dimensions: [
      { name: "x", type: "float", low: -5, high: 10, log: false },
      { name: "n", type: "int", low: 1, high: 64, log: true },
      { name: "mode", type: "categorical", choices: ["a", "b"] },
    ],
  });
  const inside = (p: Record<string, unknown>) =>
    typeof p.x === "number" && p.x >= -5 && p.x <= 10 && Number.isInteger(p.n) && (p.n as number) >= 1 && (p.n as number) <= 64 && ["a", "b"].includes(p.mode as string);

  it("returns a point inside the space, from no observations and from some", async () => {
    const empty = await cli(["propose", "--space", space, "--observations", file("o0.json", []), "--minimize", "--json"]);
    expect(empty.code).toBe(0);
    expect(inside(JSON.parse(empty.stdout))).toBe(true);
    const obs = Array.from({ length: 8 }, (_, i) => ({ config: { x: -5 + i * 2, n: 1 + i * 8, mode: i % 2 ? "a" : "b" }, value: (i - 3) ** 2 }));
    const next = await cli(["propose", "--space", space, "--observations", file("o.json", obs), "--minimize", "--seed", "3", "--json"]);
    expect(next.code).toBe(0);
    expect(inside(JSON.parse(next.stdout))).toBe(true);
  });

  it.each([
    ["o-missing.json", [{ config: { x: 1, mode: "a" }, value: 1 }], /\[0\]\.config\.n: missing/],
    ["o-choice.json", [{ config: { x: 1, n: 2, mode: "z" }, value: 1 }], /\[0\]\.config\.mode: "z" is not one of/],
    ["o-value.json", [{ config: { x: 1, n: 2, mode: "a" }, value: "high" }], /\[0\]\.value: must be a number/],
    ["o-json.json", "[{", /not valid JSON/],
  ])("bad observations file %s → error naming the field", async (name, content, message) => {
    const r = await cli(["propose", "--space", space, "--observations", file(name, content), "--json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it("bad space file → error naming the field", async () => {
    const bad = file("bad-space.json", { dimensions: [{ name: "x", type: "float", low: 0, high: 1 }, { name: "y", type: "float", low: -1, high: 1, log: true }] });
    const r = await cli(["propose", "--space", bad, "--observations", file("e.json", []), "--json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/dimensions\[1\]\.low: must be > 0 when log is true/);
  });
});
