/**
 * Weighted read-only routing through a real PgBouncer 1.18 to a real canary, with pgbench as
 * the client: the measured share at 5 / 25 / 50 %, RELOADs under load without a failed
 * transaction, writes that never reach the canary, and routing back when the canary dies.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { livePostmasterPid } from "../../../runner/postgres/cluster";
import { localCanaryBackend } from "../../../runner/canary/local-backend";
import { router as makeRouter, type Router, type RouteResult } from "../../../runner/canary/route";
import { canaryService, type CanaryService } from "../../../runner/canary/service";
import { show } from "../../../runner/pgbouncer/admin";
import type { TrafficControl } from "../../../runner/canary/traffic";
import { startCanaryWatchdog } from "../../../runner/canary/watchdog";
import { CANARY_HOST, PRIMARY_HOST, startCanaryFixture, startRoutingPgbouncer, type CanaryFixture } from "../../support/canary";
import type { TestPgbouncer } from "../../support/pgbouncer";
import { pgbenchInit, pgbenchSummary, startPgbench, type PgbenchRun } from "../../support/pgbench";
import { runSql } from "../../support/postgres";
import { checkTool, requireOrSkip } from "../../support/tools";

const HAVE_PGBOUNCER = requireOrSkip(checkTool("pgbouncer", "Debian: apt-get install pgbouncer"), "canary routing");
/** Acceptance tolerance for the measured share, in percentage points. */
const SHARE_TOLERANCE_POINTS = 3;
const MEASURE_WINDOW_MS = 4_000;

describe.runIf(HAVE_PGBOUNCER)("weighted read-only routing through PgBouncer", () => {
  let fx: CanaryFixture;
  let canaries: CanaryService;
  let bouncer: TestPgbouncer;
  let traffic: TrafficControl;
  let route: Router;
  const runs: PgbenchRun[] = [];

  const roHosts = async () => (await show(bouncer.adminUrl, "DATABASES")).find((r) => r.name === "ro")?.host;
  const canaryServers = async () => (await traffic.servers()).filter((s) => s.database === "ro" && s.host === CANARY_HOST).length;

  beforeAll(async () => {
    fx = await startCanaryFixture();
    pgbenchInit(fx.primary.url("postgres"), 1);
    canaries = canaryService({ stateDir: fx.stateDir, targetUrl: fx.primary.url("postgres"), backend: localCanaryBackend({ stateDir: fx.stateDir }) });
    await canaries.launch();
    ({ bouncer, traffic } = await startRoutingPgbouncer({ host: PRIMARY_HOST, port: fx.primary.port }));
    route = makeRouter(canaries, traffic, { measureWindowMs: MEASURE_WINDOW_MS });
  });
  afterAll(async () => {
    for (const r of runs) await r.stop();
    await bouncer?.destroy();
    await fx?.cleanup();
  });

  it("splits pgbench -S -c 8 at 5, 25 and 50 %, measured within ±3 points, RELOADing under load with 0 failed transactions", async () => {
    const run = startPgbench(bouncer.url("ro"), { selectOnly: true, clients: 8, threads: 2, seconds: 45 });
    runs.push(run);
    const results: RouteResult[] = [];
    for (const pct of [5, 25, 50]) {
      const r = await route.route(pct);
      results.push(r);
      console.log(
        `[routing] canary_pct ${pct}: k=${r.canarySlots}/${r.slotCount}, pool refilled in ${r.poolRefillMs} ms, ` +
          `measured ${((r.measuredShare ?? NaN) * 100).toFixed(2)} % (canary ${r.measurement?.canaryCalls} / primary ${r.measurement?.primaryCalls} calls over ${r.measurement?.windowMs} ms)`,
      );
    }
    const bench = pgbenchSummary(await run.done);
    console.log(`[routing] pgbench: exit ${bench.exitCode}, processed ${bench.processed}, failed ${bench.failed}, aborted clients ${bench.abortedClients}, tps ${bench.tps}`);

    for (const [i, pct] of [5, 25, 50].entries()) {
      const r = results[i]!;
      expect(r.routedBack).toBeNull();
      expect(r.poolRefillMs, `pool never refilled at ${pct} %`).not.toBeNull();
      expect(r.canarySlots).toBe(Math.round((pct / 100) * 20));
      expect(r.measurement!.canaryCalls + r.measurement!.primaryCalls).toBeGreaterThan(1_000);
      expect(Math.abs(r.measuredShare! * 100 - pct), `measured ${r.measuredShare} at ${pct} %`).toBeLessThanOrEqual(SHARE_TOLERANCE_POINTS);
    }
    expect(bench.output).not.toMatch(/aborted|error/i);
    expect(bench).toMatchObject({ exitCode: 0, failed: 0, abortedClients: 0 });
    expect(bench.processed).toBeGreaterThan(10_000);
  });

  it("never sends a write to the canary: rw names only the primary, and ro is read-only on every node", async () => {
    const ini = readFileSync(bouncer.iniPath, "utf8");
    const rwLine = ini.split("\n").find((l) => l.startsWith("rw = "))!;
    expect(rwLine).toContain(`host=${PRIMARY_HOST} `);
    expect(rwLine).not.toContain(CANARY_HOST);
    expect(ini.split("\n").find((l) => l.startsWith("ro = "))).toContain(CANARY_HOST); // still split 50 %

    await runSql(bouncer.url("rw"), "create table if not exists written (x int)");
    for (let i = 0; i < 20; i++) await runSql(bouncer.url("rw"), "insert into written values ($1)", [i]);
    expect((await fx.primary.query<{ n: number }>("select count(*)::int as n from written"))[0]!.n).toBe(20);
    // 20 attempts through ro land on primary and canary connections alike; every one is refused.
    for (let i = 0; i < 20; i++) {
      await expect(runSql(bouncer.url("ro"), "insert into written values (-1)")).rejects.toThrow(/read-only transaction/);
    }
    expect((await fx.primary.query<{ n: number }>("select count(*)::int as n from written where x < 0"))[0]!.n).toBe(0);
  });

  it("routes back to primary-only when the canary is killed during a 25 % step, and says so", async () => {
    const run = startPgbench(bouncer.url("ro"), { selectOnly: true, clients: 8, threads: 2, seconds: 20 });
    runs.push(run);
    const canary = canaries.canary();
    if (canary?.backend !== "local") throw new Error("expected a local canary");
    const phases: string[] = [];
    let killed: () => void = () => undefined;
    const killedAt = new Promise<void>((resolve) => (killed = resolve));
    const routing = route.route(25, {
      measureWindowMs: 8_000,
      onPhase: (p, detail) => {
        phases.push(`${p}${detail ? ` (${detail})` : ""}`);
        if (p === "measuring") killed();
      },
    });
    // Kill it (SIGQUIT, what pg_ctl -m immediate sends) one second into the measurement window.
    await Promise.race([
      killedAt,
      routing.then((r) => {
        throw new Error(`route_traffic ended before its measurement: ${JSON.stringify(r)}; phases: ${phases.join(" → ")}`);
      }),
    ]);
    expect(await canaryServers()).toBe(5);
    await new Promise((r) => setTimeout(r, 1_000));
    process.kill(livePostmasterPid(canary.dataDir)!, "SIGQUIT");
    const r = await routing;
    console.log(`[routing] canary killed at 25 %: ${JSON.stringify(r.routedBack)}; phases: ${phases.join(" → ")}`);
    expect(r.routedBack).toMatchObject({ fromPct: 25, reason: expect.stringMatching(/canary 127\.0\.0\.2:\d+ stopped answering/) });
    expect(r.measuredShare).toBeNull();
    expect(await roHosts()).toBe(Array(20).fill(PRIMARY_HOST).join(","));
    expect(canaries.state().routing).toMatchObject({ canaryPct: 0, canarySlots: 0 });
    expect(canaries.state().routedBack).toMatchObject({ fromPct: 25 });
    // Reads keep flowing, from the primary.
    await expect(runSql(bouncer.url("ro"), "select count(*)::int as n from pgbench_branches")).resolves.toEqual([{ n: 1 }]);
    await run.stop();
    await canaries.teardown();
  });

  it("the watchdog routes back on its own when the canary dies between commands", async () => {
    await canaries.launch();
    const run = startPgbench(bouncer.url("ro"), { selectOnly: true, clients: 4, threads: 1, seconds: 15 });
    runs.push(run);
    const r = await route.route(25, { measureWindowMs: 1_000 });
    expect(r.routedBack).toBeNull();
    const events: string[] = [];
    const dog = startCanaryWatchdog(canaries, route, { intervalMs: 300, onRouteBack: (reason) => events.push(reason) });
    try {
      const canary = canaries.canary();
      if (canary?.backend !== "local") throw new Error("expected a local canary");
      process.kill(livePostmasterPid(canary.dataDir)!, "SIGQUIT");
      await expect.poll(() => events.length, { timeout: 10_000, interval: 100 }).toBe(1);
      expect(events[0]).toMatch(/stopped answering \(2 checks 300 ms apart failed\)/);
      expect(await roHosts()).toBe(Array(20).fill(PRIMARY_HOST).join(","));
      expect(canaries.state().routedBack).toMatchObject({ fromPct: 25 });
    } finally {
      dog.stop();
      await run.stop();
      await canaries.teardown();
    }
  });
});
