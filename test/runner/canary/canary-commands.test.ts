/**
 * The canary and infrastructure commands through a real runner process: signed requests only
 * (a bad signature is a 401 and changes nothing: no canary, no state, no PgBouncer rewrite, no
 * mxc call), then the commands end to end against real PostgreSQL, PgBouncer and the mxc
 * coordinator double.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseKeyRing, type SigningKey } from "../../../src/protocol";
import { createRunnerClient, RunnerRejectedError, type RunnerClient } from "../../../src/runner-client";
import { show } from "../../../runner/pgbouncer/admin";
import { CANARY_HOST, PRIMARY_HOST, startCanaryFixture, startRoutingPgbouncer, type CanaryFixture } from "../../support/canary";
import { startFakeCoordinator, type FakeCoordinator } from "../../support/mxc-coordinator";
import type { TestPgbouncer } from "../../support/pgbouncer";
import { startRunnerProcess, type RunnerProcess } from "../../support/runner-process";
import { sendSigned } from "../../support/signed-request";
import { checkTool, requireOrSkip } from "../../support/tools";
import { TEST_RUNNER_KEYS } from "../../support/worker-constants";

const HAVE_PGBOUNCER = requireOrSkip(checkTool("pgbouncer", "Debian: apt-get install pgbouncer"), "canary commands");
const key = parseKeyRing(TEST_RUNNER_KEYS).get("test")!;

const INFRA_COMMANDS = [
  { type: "launch_canary", payload: {} },
  { type: "configure_canary", payload: { settings: { work_mem: "64MB" } } },
  { type: "route_traffic", payload: { canary_pct: 25 } },
  { type: "switchover", payload: {} },
  { type: "teardown_canary", payload: {} },
  { type: "ensure_infrastructure", payload: {} },
  { type: "infrastructure_status", payload: {} },
] as const;

describe.runIf(HAVE_PGBOUNCER)("canary commands through the runner", () => {
  let fx: CanaryFixture;
  let bouncer: TestPgbouncer;
  let coordinator: FakeCoordinator;
  let runner: RunnerProcess;
  let client: RunnerClient;
  const ini = () => readFileSync(bouncer.iniPath, "utf8");

  beforeAll(async () => {
    fx = await startCanaryFixture();
    ({ bouncer } = await startRoutingPgbouncer({ host: PRIMARY_HOST, port: fx.primary.port }));
    coordinator = await startFakeCoordinator({ defaultBehaviour: { kind: "boots", pollsUntilRunning: 1 } });
    runner = await startRunnerProcess({
      targetUrl: fx.primary.url("postgres"),
      keys: TEST_RUNNER_KEYS,
      stateDir: fx.stateDir,
      env: {
        PG2UNE_PGBOUNCER_DIR: bouncer.config.dir,
        PG2UNE_PGBOUNCER_LISTEN: `${bouncer.host}:${bouncer.port}`,
        MXC_COORDINATOR: coordinator.url,
        MXC_API_TOKEN: coordinator.token,
        PG2UNE_MXC_ARCH: "x86_64",
      },
    });
    client = createRunnerClient({ url: runner.url, key, retry: { maxAttempts: 1 } });
  });
  afterAll(async () => {
    await runner?.destroy();
    await coordinator?.close();
    await bouncer?.destroy();
    await fx?.cleanup();
  });

  it("rejects every infra command with a bad signature (401) and does nothing", async () => {
    const iniBefore = ini();
    const impostor: SigningKey = { id: "test", secret: new Uint8Array(32).fill(7) };
    for (const command of INFRA_COMMANDS) {
      const res = await sendSigned(runner.url, impostor, command);
      expect(res.status, command.type).toBe(401);
      expect(res.json, command.type).toMatchObject({ ok: false, reason: "bad_signature" });
      const tampered = await sendSigned(runner.url, key, command, {
        tamper: (req) => {
          const i = req.body.length - 2;
          req.body[i] = req.body[i]! ^ 1;
        },
      });
      expect(tampered.status, `${command.type} (tampered body)`).toBe(401);
    }
    expect(existsSync(join(fx.stateDir, "rollout.json"))).toBe(false);
    expect(existsSync(join(fx.stateDir, "infrastructure.json"))).toBe(false);
    expect(existsSync(join(fx.stateDir, "canaries"))).toBe(false);
    expect(readdirSync(join(fx.stateDir, "journal")).filter((f) => f.endsWith(".json"))).toEqual([]);
    expect(coordinator.requests).toEqual([]);
    expect(ini()).toBe(iniBefore);
    expect((await fx.primary.query<{ n: number }>("select count(*)::int as n from pg_stat_replication"))[0]!.n).toBe(0);
  });

  it("refuses canary commands without a canary, and bad payloads, naming the field", async () => {
    await expect(client.send("configure_canary", { settings: { work_mem: "64MB" } })).rejects.toMatchObject({ status: 409, reason: "no_canary" });
    await expect(client.send("route_traffic", { canary_pct: 25 })).rejects.toMatchObject({ status: 409, reason: "no_canary" });
    await expect(client.send("switchover", {})).rejects.toMatchObject({ status: 409, reason: "no_canary" });
    const bad = await client.send("route_traffic", { canary_pct: 101 } as never).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(RunnerRejectedError);
    expect(bad).toMatchObject({ status: 400, reason: "invalid_payload" });
    expect((bad as Error).message).toMatch(/payload\.canary_pct/);
  });

  it("launch → configure → route → status → teardown, signed, end to end", async () => {
    const launched = await client.send("launch_canary", {});
    expect(launched.result).toMatchObject({ launched: true, canary: { backend: "local", host: CANARY_HOST, port: fx.primary.port } });

    const configured = await client.send("configure_canary", { settings: { work_mem: "32MB", max_connections: 10 } });
    expect(configured.result.method).toBe("reload");
    expect(configured.result.notCanaryTestable).toEqual([expect.objectContaining({ name: "max_connections", verdict: "standby_minimum" })]);
    const bad = await client.send("configure_canary", { settings: { work_mem: "lots" } }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, reason: "invalid_config" });

    const routed = await client.send("route_traffic", { canary_pct: 25, measure_window_ms: 500 });
    expect(routed.result).toMatchObject({ canaryPct: 25, canarySlots: 5, slotCount: 20, plannedShare: 0.25, routedBack: null });
    expect((await show(bouncer.adminUrl, "DATABASES")).find((d) => d.name === "ro")!.host).toContain(CANARY_HOST);

    const status = await client.send("infrastructure_status", {});
    expect(status.result).toMatchObject({
      primary: { host: PRIMARY_HOST, port: fx.primary.port },
      canary: { backend: "local", host: CANARY_HOST, answering: true },
      canaryBackend: "local",
      routing: { canaryPct: 25, canarySlots: 5 },
      routingConfigured: true,
      mxc: { primary: { status: "absent" }, pgbouncer: { status: "absent" } },
    });

    const down = await client.send("teardown_canary", {});
    expect(down.result).toMatchObject({ tornDown: { host: CANARY_HOST }, routedBack: true });
    expect((await show(bouncer.adminUrl, "DATABASES")).find((d) => d.name === "ro")!.host).not.toContain(CANARY_HOST);
    expect((await client.send("infrastructure_status", {})).result).toMatchObject({ canary: null, routing: { canaryPct: 0 } });
  });

  it("ensure_infrastructure deploys the microVMs through the coordinator, once", async () => {
    const first = await client.send("ensure_infrastructure", {});
    expect(first.result).toMatchObject({ primary: { status: "running", deployed: true }, pgbouncer: { status: "running", deployed: true } });
    const again = await client.send("ensure_infrastructure", {});
    expect(again.result).toMatchObject({ primary: { deployed: false }, pgbouncer: { deployed: false } });
    expect([...coordinator.workloads.values()].map((w) => w.command).sort()).toEqual(["pg2une-pgbouncer-x86_64", "pg2une-postgres-x86_64"]);
  });
});
