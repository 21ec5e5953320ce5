import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MxcError, MxcTimeoutError, MxcWorkloadFailedError, createMxcClient, mxcConfigFromEnv, type MxcClient } from "../../../runner/mxc/client";
import { ensureInfrastructure, infrastructureState, infrastructureStatus, microvmWorkload } from "../../../runner/mxc/infrastructure";
import { startFakeCoordinator, type FakeCoordinator } from "../../support/mxc-coordinator";

const FAST = { pollMs: 20, timeoutMs: 2_000 };

describe("mxc client against a coordinator speaking the documented contract", () => {
  let coordinator: FakeCoordinator;
  let mxc: MxcClient;
  let stateDir: string;

  beforeAll(async () => {
    coordinator = await startFakeCoordinator({
      behaviours: {
        "pg2une-postgres-replica-x86_64": { kind: "boots", pollsUntilRunning: 3 },
        "replica-broken": { kind: "fails", pollsUntilFailed: 2, error: "microvm pg2une-postgres-replica: no node with 4 free vCPUs" },
        "replica-stuck": { kind: "hangs" },
      },
    });
    mxc = createMxcClient(mxcConfigFromEnv({ MXC_COORDINATOR: coordinator.url, MXC_API_TOKEN: coordinator.token }));
    stateDir = mkdtempSync(join(tmpdir(), "pg2une-mxc-"));
  });
  afterAll(async () => {
    await coordinator?.close();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it("defaults to http://localhost:4000 and rejects a coordinator URL that is not one", () => {
    expect(mxcConfigFromEnv({}).baseUrl).toBe("http://localhost:4000");
    expect(() => mxcConfigFromEnv({ MXC_COORDINATOR: "not a url" })).toThrow(/MXC_COORDINATOR is not a URL/);
  });

  it("creates a replica microVM, polls it to running, reads its ip, stops it", async () => {
    const created = await mxc.createWorkload(microvmWorkload("postgres-replica", "x86_64", { PG2UNE_PRIMARY_HOST: "127.0.0.1" }));
    expect(created.status).toBe("pending");
    const stored = coordinator.workloads.get(created.id)!;
    expect(stored).toMatchObject({ type: "microvm", command: "pg2une-postgres-replica-x86_64", cpu_required: 4, memory_required: 2048, env: { PG2UNE_PRIMARY_HOST: "127.0.0.1" } });

    const running = await mxc.waitUntilRunning(created.id, FAST);
    expect(running.status).toBe("running");
    expect(running.ip).toMatch(/^127\.0\.0\.\d+$/);
    expect(stored.polls).toBe(3);

    const stopped = await mxc.stopWorkload(created.id);
    expect(stopped.status).toBe("stopped");
    expect(coordinator.requests.every((r) => r.authorized)).toBe(true);
  });

  it("reports a workload that goes to failed with the coordinator's message", async () => {
    const w = await mxc.createWorkload({ type: "microvm", command: "replica-broken", cpu_required: 4, memory_required: 2048 });
    const err = await mxc.waitUntilRunning(w.id, FAST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MxcWorkloadFailedError);
    expect((err as Error).message).toMatch(/failed before it ran: microvm pg2une-postgres-replica: no node with 4 free vCPUs/);
  });

  it("gives up on a workload that never reaches running, naming its last status", async () => {
    const w = await mxc.createWorkload({ type: "process", command: "replica-stuck", cpu_required: 1, memory_required: 64 });
    const started = Date.now();
    const err = await mxc.waitUntilRunning(w.id, { pollMs: 20, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MxcTimeoutError);
    expect((err as Error).message).toMatch(/did not reach running .* within 300 ms \(last status: starting\)/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("says what to do when the token is wrong or missing, and when the coordinator is down", async () => {
    const noToken = createMxcClient({ baseUrl: coordinator.url });
    await expect(noToken.getWorkload("x")).rejects.toThrow(/\(401\): set MXC_API_TOKEN/);
    const badToken = createMxcClient({ baseUrl: coordinator.url, token: "wrong" });
    await expect(badToken.getWorkload("x")).rejects.toThrow(/MXC_API_TOKEN was not accepted/);
    const down = createMxcClient({ baseUrl: "http://127.0.0.1:1", token: "t" });
    await expect(down.getWorkload("x")).rejects.toThrow(/unreachable/);
  });

  it("surfaces the coordinator's validation error and a 404", async () => {
    const err = await mxc.getWorkload("no-such-id").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MxcError);
    expect((err as MxcError).status).toBe(404);
    expect(await mxc.findWorkload("no-such-id")).toBeUndefined();
    await expect(mxc.createWorkload({ type: "microvm", command: "", cpu_required: 1, memory_required: 1 })).rejects.toThrow(/invalid workload: command: /);
  });

  it("ensure_infrastructure deploys the primary and PgBouncer VMs once, and status reports them", async () => {
    const state = infrastructureState(stateDir);
    expect(await infrastructureStatus({ mxc, state })).toMatchObject({ primary: { status: "absent" }, pgbouncer: { status: "absent" } });

    const first = await ensureInfrastructure({ mxc, state, arch: "x86_64" }, FAST);
    expect(first.primary).toMatchObject({ status: "running", deployed: true });
    expect(first.pgbouncer).toMatchObject({ status: "running", deployed: true });
    expect(coordinator.workloads.get(first.primary.workloadId!)!.command).toBe("pg2une-postgres-x86_64");
    expect(coordinator.workloads.get(first.pgbouncer.workloadId!)).toMatchObject({ command: "pg2une-pgbouncer-x86_64", cpu_required: 1, memory_required: 256 });

    const again = await ensureInfrastructure({ mxc, state, arch: "x86_64" }, FAST);
    expect(again.primary).toMatchObject({ workloadId: first.primary.workloadId, deployed: false });

    // A stopped PgBouncer VM is absent as far as ensure is concerned: it deploys a new one.
    await mxc.stopWorkload(first.pgbouncer.workloadId!);
    expect((await infrastructureStatus({ mxc, state })).pgbouncer.status).toBe("stopped");
    const healed = await ensureInfrastructure({ mxc, state, arch: "x86_64" }, FAST);
    expect(healed.pgbouncer.deployed).toBe(true);
    expect(healed.pgbouncer.workloadId).not.toBe(first.pgbouncer.workloadId);
    expect(healed.primary.deployed).toBe(false);
  });
});
