import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CATALOG_KNOB_NAMES, PG_SETTINGS_QUERY, PgSettingRowSchema, currentValues, validateConfig, type PgSettingRow } from "../../../src/core/knobs";
import { startTestCluster, type TestCluster } from "../../support/postgres";

describe("validateConfig against a real cluster's pg_settings", () => {
  let cluster: TestCluster;
  let rows: PgSettingRow[];

  beforeAll(async () => {
    cluster = await startTestCluster();
    const raw = await cluster.query(PG_SETTINGS_QUERY, [[...CATALOG_KNOB_NAMES, "fsync", "synchronous_commit", "autovacuum_max_workers"]]);
    rows = raw.map((r) => PgSettingRowSchema.parse(r));
  });
  afterAll(async () => cluster?.destroy());

  it("knows every catalog knob on this server, with its restart context", () => {
    const names = new Set(rows.map((r) => r.name));
    for (const k of CATALOG_KNOB_NAMES) expect(names.has(k), k).toBe(true);
    const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
    expect(byName.shared_buffers!.context).toBe("postmaster");
    expect(byName.work_mem!.context).toBe("user");
    expect(currentValues(rows).work_mem).toBe(4 * 1024 * 1024);
  });

  it("accepts valid values and says which need a restart", () => {
    const result = validateConfig({ work_mem: "64MB", shared_buffers: "256MB", jit: "off", checkpoint_timeout: "10min" }, rows);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const byName = Object.fromEntries(result.knobs.map((k) => [k.name, k]));
    expect(byName.work_mem).toMatchObject({ rendered: "64MB", restartRequired: false });
    expect(byName.shared_buffers).toMatchObject({ rendered: "256MB", restartRequired: true });
    expect(byName.checkpoint_timeout).toMatchObject({ rendered: "10min", value: 600_000 });
  });

  it("rejects out-of-range, malformed, unknown and protected values, naming each knob", () => {
    const result = validateConfig(
      { work_mem: "-1", random_page_cost: "abc", checkpoint_timeout: "2d", max_connections: 0, no_such_knob: 1, fsync: "off" },
      rows,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byKnob = Object.fromEntries(result.errors.map((e) => [e.knob, e.message]));
    expect(byKnob.work_mem).toMatch(/below the server's minimum 64kB/);
    expect(byKnob.random_page_cost).toMatch(/not a number/);
    expect(byKnob.checkpoint_timeout).toMatch(/above the server's maximum 1d/);
    expect(byKnob.max_connections).toMatch(/below the server's minimum 1/);
    expect(byKnob.no_such_knob).toMatch(/unknown knob no_such_knob/);
    expect(byKnob.fsync).toMatch(/fsync is protected/);
  });

  it("an operator's allow-list lets a protected setting through, validated by pg_settings", () => {
    expect(validateConfig({ synchronous_commit: "off" }, rows, { allow: ["synchronous_commit"] }).ok).toBe(true);
    const bad = validateConfig({ synchronous_commit: "sometimes" }, rows, { allow: ["synchronous_commit"] });
    expect(bad.ok).toBe(false);
  });
});
