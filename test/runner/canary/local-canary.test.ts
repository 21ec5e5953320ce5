import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { livePostmasterPid } from "../../../runner/postgres/cluster";
import { InvalidCanaryConfigError } from "../../../runner/canary/configure";
import { localCanaryBackend } from "../../../runner/canary/local-backend";
import { canaryService, type CanaryService } from "../../../runner/canary/service";
import { query } from "../../../runner/canary/sql";
import { standbyStatus } from "../../../runner/canary/standby";
import { CANARY_HOST, startCanaryFixture, type CanaryFixture } from "../../support/canary";

describe("local canary: pg_basebackup hot standby on another loopback address", () => {
  let fx: CanaryFixture;
  let canaries: CanaryService;
  const show = async (url: string, name: string) => (await query<{ v: string }>(url, `select current_setting($1) as v`, [name]))[0]!.v;

  beforeAll(async () => {
    fx = await startCanaryFixture();
    canaries = canaryService({ stateDir: fx.stateDir, targetUrl: fx.primary.url("postgres"), backend: localCanaryBackend({ stateDir: fx.stateDir }) });
  });
  afterAll(async () => fx?.cleanup());

  it("launches a streaming standby on 127.0.0.2 with the primary's port, once", async () => {
    await fx.primary.query("create table launched_before (x int); insert into launched_before values (1)");
    const first = await canaries.launch();
    expect(first.launched).toBe(true);
    expect(first.canary).toMatchObject({ backend: "local", host: CANARY_HOST, port: fx.primary.port });

    const url = canaries.canaryUrl();
    expect(await standbyStatus(url)).toMatchObject({ inRecovery: true, receiver: "streaming" });
    expect(await query(url, "select x from launched_before")).toEqual([{ x: 1 }]);

    // Streaming: a write on the primary shows up on the canary.
    await fx.primary.query("insert into launched_before values (2)");
    await expect.poll(async () => (await query(url, "select count(*)::int as n from launched_before"))[0]!.n, { timeout: 5_000 }).toBe(2);

    const again = await canaries.launch();
    expect(again.launched).toBe(false);
    expect(again.canary.host).toBe(first.canary.host);
  });

  it("refuses writes on the canary (a hot standby is read-only)", async () => {
    await expect(query(canaries.canaryUrl(), "insert into launched_before values (3)")).rejects.toThrow(/read-only transaction/);
  });

  it("applies reload-context knobs with a reload, leaving the primary as it was", async () => {
    const result = await canaries.configure({ settings: { work_mem: "64MB", random_page_cost: 1.1 } });
    expect(result.method).toBe("reload");
    expect(result.knobs.every((k) => k.applied && k.inEffect && k.verdict === "testable")).toBe(true);
    expect(await show(canaries.canaryUrl(), "work_mem")).toBe("64MB");
    expect(await show(fx.primary.url(), "work_mem")).toBe("4MB");
  });

  it("restarts for postmaster-context knobs, and reports what a standby cannot test", async () => {
    const result = await canaries.configure({ settings: { shared_buffers: "64MB", checkpoint_timeout: "10min", max_connections: 50 } });
    expect(result.method).toBe("restart");
    const byName = Object.fromEntries(result.knobs.map((k) => [k.name, k]));
    expect(byName.shared_buffers).toMatchObject({ applied: true, inEffect: true, verdict: "testable" });
    expect(byName.checkpoint_timeout).toMatchObject({ applied: true, inEffect: true, verdict: "write_path" });
    expect(byName.max_connections).toMatchObject({ applied: false, inEffect: false, verdict: "standby_minimum" });
    expect(result.notCanaryTestable.map((n) => n.name).sort()).toEqual(["checkpoint_timeout", "max_connections"]);
    expect(result.notCanaryTestable.find((n) => n.name === "max_connections")!.why).toMatch(/below the primary's 100/);

    const url = canaries.canaryUrl();
    expect(await show(url, "shared_buffers")).toBe("64MB");
    expect(await show(url, "max_connections")).toBe("100");
    expect(await show(url, "work_mem")).toBe("64MB"); // the earlier reload survived the restart
    expect(await standbyStatus(url)).toMatchObject({ inRecovery: true, receiver: "streaming" });
  });

  it("rejects a bad config as a whole, naming each knob, and writes nothing", async () => {
    const err = await canaries.configure({ settings: { work_mem: "8MB", random_page_cost: "fast", fsync: "off" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidCanaryConfigError);
    expect((err as Error).message).toMatch(/random_page_cost: .*not a number/);
    expect((err as Error).message).toMatch(/fsync is protected/);
    expect(await show(canaries.canaryUrl(), "work_mem")).toBe("64MB");
  });

  it("tears down: postmaster stopped, files removed, state cleared; again is a no-op", async () => {
    const canary = canaries.canary();
    if (canary?.backend !== "local") throw new Error("expected a local canary");
    const result = await canaries.teardown();
    expect(result.tornDown).toMatchObject({ host: CANARY_HOST });
    expect(livePostmasterPid(canary.dataDir)).toBeUndefined();
    expect(existsSync(canary.dir)).toBe(false);
    expect(canaries.canary()).toBeUndefined();
    expect((await canaries.teardown()).tornDown).toBeNull();
    await expect(canaries.configure({ settings: { work_mem: "8MB" } })).rejects.toThrow(/launch_canary before configure_canary/);
  });
});
