/**
 * The mxc canary backend end to end, with the coordinator double standing in for mxc: when the
 * "microVM" becomes running, the test starts a real hot standby at the address the coordinator
 * handed out (what the replica image does inside the VM), so launch → stream → configure →
 * teardown run against real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { livePostmasterPid } from "../../../runner/postgres/cluster";
import { localCanaryBackend } from "../../../runner/canary/local-backend";
import { mxcCanaryBackend } from "../../../runner/canary/mxc-backend";
import { canaryService, type CanaryService } from "../../../runner/canary/service";
import { query } from "../../../runner/canary/sql";
import type { CanaryRecord } from "../../../runner/canary/state";
import { createMxcClient } from "../../../runner/mxc/client";
import { startCanaryFixture, type CanaryFixture } from "../../support/canary";
import { startFakeCoordinator, type FakeCoordinator } from "../../support/mxc-coordinator";

describe("mxc canary backend (coordinator double, real standby at the VM's address)", () => {
  let fx: CanaryFixture;
  let coordinator: FakeCoordinator;
  let canaries: CanaryService;
  const vms = new Map<string, CanaryRecord>();

  beforeAll(async () => {
    fx = await startCanaryFixture();
    const vmImage = localCanaryBackend({ stateDir: fx.stateDir });
    coordinator = await startFakeCoordinator({
      behaviours: {
        "pg2une-postgres-replica-x86_64": {
          kind: "boots",
          pollsUntilRunning: 2,
          ip: "127.0.0.3",
          onRunning: async ({ id, ip, env }) => {
            const primary = `postgres://${env.PG2UNE_PRIMARY_USER}@${env.PG2UNE_PRIMARY_HOST}:${env.PG2UNE_PRIMARY_PORT}/postgres`;
            vms.set(id, await vmImage.launch({ primaryUrl: primary, host: ip }));
          },
          onStop: async ({ id }) => {
            const vm = vms.get(id);
            if (vm) await vmImage.teardown(vm);
          },
        },
      },
    });
    const mxc = createMxcClient({ baseUrl: coordinator.url, token: coordinator.token });
    const backend = mxcCanaryBackend({ mxc, arch: "x86_64", wait: { pollMs: 20, timeoutMs: 60_000 } });
    canaries = canaryService({ stateDir: fx.stateDir, targetUrl: fx.primary.url("postgres"), backend });
  });
  afterAll(async () => {
    await coordinator?.close();
    await fx?.cleanup();
  });

  it("launches a replica microVM, waits until it runs and streams, and uses its address", async () => {
    const result = await canaries.launch();
    expect(result.canary).toMatchObject({ backend: "mxc", host: "127.0.0.3", port: fx.primary.port });
    const [w] = [...coordinator.workloads.values()];
    expect(w).toMatchObject({ type: "microvm", command: "pg2une-postgres-replica-x86_64", env: { PG2UNE_PORT: String(fx.primary.port) } });
    expect(result.canary.workloadId).toBe(w!.id);
    expect(await query(canaries.canaryUrl(), "select pg_is_in_recovery() as r")).toEqual([{ r: true }]);
  });

  it("applies reload knobs but refuses restart knobs it cannot restart the VM for", async () => {
    const result = await canaries.configure({ settings: { work_mem: "32MB", shared_buffers: "64MB" } });
    expect(result.method).toBe("reload");
    const byName = Object.fromEntries(result.knobs.map((k) => [k.name, k]));
    expect(byName.work_mem).toMatchObject({ applied: true, inEffect: true });
    expect(byName.shared_buffers).toMatchObject({ applied: false, inEffect: false });
    expect(byName.shared_buffers!.why).toMatch(/needs a restart .* mxc canary backend cannot/);
  });

  it("stops the workload on teardown", async () => {
    const id = canaries.canary()!.backend === "mxc" ? (canaries.canary() as { workloadId: string }).workloadId : "";
    await canaries.teardown();
    expect(coordinator.workloads.get(id)!.status).toBe("stopped");
    const vm = vms.get(id);
    expect(vm?.backend === "local" && livePostmasterPid(vm.dataDir)).toBeUndefined();
  });
});
