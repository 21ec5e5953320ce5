/**
 * The cron loop starts the action `pg2une rules` derives: the same facts through the CLI (a real
 * process, the rules file as deployed) and through the loop's precedence (src/decide/choose-action.ts).
 * An operator's edited rules that conclude several actions get the broadest one; an action the
 * rollout does not know is reported, never started.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ACTION_PRECEDENCE, chooseAction } from "../../src/decide/choose-action";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "runner/bin/pg2une.js");
const RULES = join(ROOT, "rules/pg2une.dl");
const dir = mkdtempSync(join(tmpdir(), "pg2une-loop-action-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cliShouldAct(facts: Record<string, unknown[][]>, rules = RULES): Promise<string[]> {
  const path = join(dir, `facts-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(facts));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, "rules", rules, "--facts", path, "--query", "should_act", "--json"], { cwd: ROOT }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`pg2une rules failed: ${stderr}`));
      resolve(((JSON.parse(stdout) as { should_act?: string[][] }).should_act ?? []).map((t) => t[0]!).sort());
    });
  });
}

const NOW = 1_800_000_000;
const base = { high_confidence: [[]], now: [[NOW]] };

describe("the loop's action = what `pg2une rules` derives", () => {
  it.each([
    ["knobs", { ...base, metric_degraded: [["tps"]], cusum_degradation: [["tps", 6.1]] }],
    ["queries", { ...base, query_regression: [["4711", "same_load", 85]] }],
    ["holistic", { ...base, metric_degraded: [["latency_p99"]], query_regression: [["4711", "changed_load", 900]] }],
  ] as const)("%s", async (expected, facts) => {
    const acts = await cliShouldAct(facts as unknown as Record<string, unknown[][]>);
    expect(acts).toEqual([expected]);
    expect(chooseAction(acts)).toEqual({ action: expected, unknown: [] });
  });

  it("nothing within the cooldown, nothing while a rollout is active", async () => {
    const facts = { ...base, metric_degraded: [["tps"]] };
    expect(await cliShouldAct({ ...facts, last_optimization_time: [[NOW - 60]] })).toEqual([]);
    expect(await cliShouldAct({ ...facts, rollout_active: [[]] })).toEqual([]);
    // The object's own cooldown (cooldown_seconds from its status) is the longer one here: it holds too.
    expect(await cliShouldAct({ ...facts, last_optimization_time: [[NOW - 400]], cooldown_seconds: [[600]] })).toEqual([]);
    expect(await cliShouldAct({ ...facts, last_optimization_time: [[NOW - 400]] })).toEqual(["knobs"]);
  });

  it("edited rules concluding several actions: holistic > knobs > queries; unknown actions are reported", async () => {
    const edited = join(dir, "edited.dl");
    // An operator adds: queries whenever a query regressed, and a typo'd action.
    writeFileSync(edited, `${readFileSync(RULES, "utf8")}\nshould_optimize(queries) :- query_regression(_, _, _).\nshould_act(tune_everything) :- action_ready(knobs).\n`);
    const acts = await cliShouldAct({ ...base, metric_degraded: [["tps"]], query_regression: [["4711", "same_load", 85]] }, edited);
    expect(acts).toEqual(["holistic", "queries"]);
    expect(chooseAction(acts).action).toBe("holistic");
    const both = await cliShouldAct({ ...base, metric_degraded: [["tps"]] }, edited);
    expect(both).toEqual(["knobs", "tune_everything"]);
    expect(chooseAction(both)).toEqual({ action: "knobs", unknown: ["tune_everything"] });
    expect(chooseAction(["queries", "knobs"]).action).toBe("knobs");
    expect(chooseAction(["tune_everything"])).toEqual({ action: null, unknown: ["tune_everything"] });
    expect(ACTION_PRECEDENCE).toEqual(["holistic", "knobs", "queries"]);
  });
});
