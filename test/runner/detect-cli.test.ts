/**
 * `pg2une detect` through the real CLI, as a child process: the acceptance series (a 2σ drop in
 * tps at index 120 of 200), JSON and human output, and bad input.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { PG_STAT_STATEMENTS_INSTRUCTION } from "../../src/core/metrics";
import { createRng } from "../../src/core/random";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "pg2une-detect-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], command = "node", prefix = ["runner/bin/pg2une.js"]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, [...prefix, ...args], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
    });
  });
}

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** 200 one-minute snapshots of tps ~ N(1000, 50²) dropping by 2σ (100 tps) at index 120. */
function dropSeries(seed: number) {
  const rng = createRng(seed);
  const start = Date.parse("2025-05-01T10:00:00Z");
  return Array.from({ length: 200 }, (_, i) => ({
    snapshot_time: new Date(start + i * 60_000).toISOString(),
    tps: 1000 + 50 * rng.normal() - (i >= 120 ? 100 : 0),
    latency_p99: null,
    buffer_hit_ratio: null,
    active_connections: 8,
  }));
}

describe("pg2une detect", () => {
  it("alarms between index 120 and 130 on a 2σ drop in tps at 120, and not before (npx pg2une … --json)", async () => {
    const path = file("series.json", JSON.stringify(dropSeries(1)));
    const { code, stdout, stderr } = await cli(["pg2une", "detect", path, "--json"], "npx", []);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      alarms: Array<{ metric: string; index: number; snapshot_time: string; statistic: number }>;
      change_points: Array<{ metric: string; index: number }>;
      facts: Array<{ pred: string; args: unknown[] }>;
    };
    const tpsAlarms = report.alarms.filter((a) => a.metric === "tps");
    console.log("tps alarms:", tpsAlarms.map((a) => `${a.index} (S=${a.statistic.toFixed(2)})`).join(", "));
    console.log("change points:", report.change_points.map((c) => `${c.metric}@${c.index}`).join(", "));
    expect(tpsAlarms.length).toBeGreaterThan(0);
    expect(tpsAlarms[0]!.index).toBeGreaterThanOrEqual(120);
    expect(tpsAlarms[0]!.index).toBeLessThanOrEqual(130);
    expect(report.alarms.every((a) => a.index >= 120)).toBe(true);
    expect(tpsAlarms[0]!.snapshot_time).toBe(dropSeries(1)[tpsAlarms[0]!.index]!.snapshot_time);
    expect(report.facts).toContainEqual({ pred: "metric_degraded", args: ["tps"] });
    expect(report.change_points.some((c) => c.metric === "tps" && Math.abs(c.index - 120) <= 3)).toBe(true);
  });

  it("prints a human report without --json", async () => {
    const path = file("human.json", JSON.stringify(dropSeries(1)));
    const { code, stdout } = await cli(["detect", path]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/CUSUM/);
    expect(stdout).toMatch(/metric_degraded\(tps\)\./);
  });

  it("says what to do when the history says pg_stat_statements is missing (human and --json)", async () => {
    const missing = {
      available: false,
      reason: "not_preloaded",
      message: "pg_stat_statements is not loaded: it is missing from shared_preload_libraries",
      instruction: PG_STAT_STATEMENTS_INSTRUCTION,
    };
    const path = file("no-pgss.json", JSON.stringify(dropSeries(2).slice(0, 20).map((s) => ({ ...s, pg_stat_statements: missing }))));
    const human = await cli(["detect", path]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`Notice: pg_stat_statements is not loaded: it is missing from shared_preload_libraries: ${PG_STAT_STATEMENTS_INSTRUCTION}.`);
    const json = await cli(["detect", path, "--json"]);
    expect(json.code).toBe(0);
    expect(json.stderr).toContain(`notice: pg_stat_statements is not loaded`);
    const report = JSON.parse(json.stdout) as { pg_stat_statements: unknown; notices: string[] };
    expect(report.pg_stat_statements).toEqual(missing);
    expect(report.notices[0]).toContain(PG_STAT_STATEMENTS_INSTRUCTION);
    // A history that does not say anything about it gets no notice.
    const plain = await cli(["detect", file("plain.json", JSON.stringify(dropSeries(2).slice(0, 20))), "--json"]);
    expect(plain.stderr).toBe("");
    expect((JSON.parse(plain.stdout) as { notices: string[] }).notices).toEqual([]);
  });

  it.each([
    ["not JSON", "{ this is not json", /is not valid JSON/],
    ["a string", '"hello"', /expected an array of snapshots or an object/],
    ["a bad field", JSON.stringify([{ snapshot_time: "2025-01-01T00:00:00Z", tps: "fast" }]), /\[0\]\.tps: Invalid input: expected number, received string/],
    ["a bad time", JSON.stringify([{ snapshot_time: "yesterday", tps: 1 }]), /\[0\]\.snapshot_time: Invalid ISO datetime/],
    [
      "unordered snapshots",
      JSON.stringify([{ snapshot_time: "2025-01-01T00:01:00Z" }, { snapshot_time: "2025-01-01T00:00:00Z" }]),
      /ascending snapshot_time order/,
    ],
  ])("rejects %s with a clear message and a non-zero exit", async (_name, content, message) => {
    const path = file("bad.json", content);
    const { code, stdout, stderr } = await cli(["detect", path, "--json"]);
    expect(code).not.toBe(0);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
  });

  it("rejects a missing file and a missing argument", async () => {
    const missing = await cli(["detect", join(dir, "nope.json")]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no such file/);
    const none = await cli(["detect"]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/exactly one history file/);
  });
});
