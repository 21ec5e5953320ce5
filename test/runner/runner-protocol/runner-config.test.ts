import { describe, expect, it } from "vitest";
import { loadRunnerConfig } from "../../../runner/config";

describe("runner config: the protocol's settings", () => {
  it("allow-listed knobs from env (comma list) or a file (array); no override of command timeouts by default", () => {
    const c = loadRunnerConfig({ env: { PG2UNE_RUNNER_ALLOW_KNOBS: " synchronous_commit, pg_stat_statements.track ", PG2UNE_RUNNER_COMMAND_TIMEOUT_MS: "5000" } });
    expect(c.allowKnobs).toEqual(["synchronous_commit", "pg_stat_statements.track"]);
    expect(c.commandTimeoutMs).toBe(5000);
    const defaults = loadRunnerConfig({ env: {} });
    expect(defaults).toMatchObject({ allowKnobs: [], port: 7070, host: "127.0.0.1" });
    expect(defaults.commandTimeoutMs).toBeUndefined();
  });

  it("refuses a setting name that is not one, naming the field", () => {
    expect(() => loadRunnerConfig({ env: { PG2UNE_RUNNER_ALLOW_KNOBS: "work_mem,x; drop" } })).toThrow(/allowKnobs\.1: not a PostgreSQL setting name/);
    expect(() => loadRunnerConfig({ env: { PG2UNE_RUNNER_COMMAND_TIMEOUT_MS: "5" } })).toThrow(/commandTimeoutMs/);
  });
});
