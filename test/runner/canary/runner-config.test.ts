import { describe, expect, it } from "vitest";
import { loadRunnerConfig } from "../../../runner/config";

describe("runner config for canaries, PgBouncer routing and mxc", () => {
  it("reads the canary, PgBouncer and mxc settings from the environment", () => {
    const config = loadRunnerConfig({
      env: {
        PG2UNE_CANARY_BACKEND: "mxc",
        PG2UNE_CANARY_HOST: "127.0.0.5",
        PG2UNE_CANARY_DIR: "/srv/canaries",
        PG2UNE_PGBOUNCER_DIR: "/etc/pgbouncer",
        PG2UNE_PGBOUNCER_LISTEN: "127.0.0.1:6432",
        MXC_COORDINATOR: "http://127.0.0.1:4000",
        MXC_API_TOKEN: "secret",
        PG2UNE_MXC_ARCH: "aarch64",
      },
    });
    expect(config).toMatchObject({
      canaryBackend: "mxc",
      canaryHost: "127.0.0.5",
      canaryDir: "/srv/canaries",
      pgbouncerDir: "/etc/pgbouncer",
      pgbouncerListen: "127.0.0.1:6432",
      mxcCoordinator: "http://127.0.0.1:4000",
      mxcApiToken: "secret",
      mxcArch: "aarch64",
    });
    expect(loadRunnerConfig({ env: {} }).canaryBackend).toBe("local");
  });

  it("names the bad setting", () => {
    expect(() => loadRunnerConfig({ env: { PG2UNE_CANARY_BACKEND: "docker" } })).toThrow(/canaryBackend/);
    expect(() => loadRunnerConfig({ env: { PG2UNE_PGBOUNCER_DIR: "/x", PG2UNE_PGBOUNCER_LISTEN: "6432" } })).toThrow(/pgbouncerListen: must be host:port/);
    expect(() => loadRunnerConfig({ env: { PG2UNE_PGBOUNCER_DIR: "/x" } })).toThrow(/needs both PG2UNE_PGBOUNCER_DIR and PG2UNE_PGBOUNCER_LISTEN/);
    expect(() => loadRunnerConfig({ env: { MXC_COORDINATOR: "not a url" } })).toThrow(/mxcCoordinator/);
  });
});
