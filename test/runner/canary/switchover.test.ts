/**
 * Switchover under a read-write pgbench through PgBouncer: the canary becomes the primary with
 * no failed transaction, every transaction pgbench counted is in pgbench_history, clients were
 * held under 2 s, and the old primary follows the new one as a standby.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localCanaryBackend } from "../../../runner/canary/local-backend";
import { router as makeRouter } from "../../../runner/canary/route";
import { canaryService, type CanaryService } from "../../../runner/canary/service";
import { query } from "../../../runner/canary/sql";
import { SwitchoverAbortedError, switchover, type SwitchoverResult } from "../../../runner/canary/switchover";
import type { TrafficControl } from "../../../runner/canary/traffic";
import { show } from "../../../runner/pgbouncer/admin";
import { CANARY_HOST, PRIMARY_HOST, startCanaryFixture, startRoutingPgbouncer, type CanaryFixture } from "../../support/canary";
import type { TestPgbouncer } from "../../support/pgbouncer";
import { pgbenchInit, pgbenchSummary, startPgbench, type PgbenchRun } from "../../support/pgbench";
import { runSql } from "../../support/postgres";
import { checkTool, requireOrSkip } from "../../support/tools";

const HAVE_PGBOUNCER = requireOrSkip(checkTool("pgbouncer", "Debian: apt-get install pgbouncer"), "canary switchover");
/** Acceptance: clients held less than this during the switchover. */
const MAX_PAUSE_MS = 2_000;

describe.runIf(HAVE_PGBOUNCER)("switchover: the canary becomes the primary", () => {
  let fx: CanaryFixture;
  let canaries: CanaryService;
  let bouncer: TestPgbouncer;
  let traffic: TrafficControl;
  const runs: PgbenchRun[] = [];

  beforeAll(async () => {
    fx = await startCanaryFixture();
    pgbenchInit(fx.primary.url("postgres"), 1);
    canaries = canaryService({ stateDir: fx.stateDir, targetUrl: fx.primary.url("postgres"), backend: localCanaryBackend({ stateDir: fx.stateDir }) });
    ({ bouncer, traffic } = await startRoutingPgbouncer({ host: PRIMARY_HOST, port: fx.primary.port }));
  });
  afterAll(async () => {
    for (const r of runs) await r.stop();
    await bouncer?.destroy();
    await fx?.cleanup();
  });

  it("gives up cleanly when PAUSE cannot complete in time: resumed, nothing changed", async () => {
    await canaries.launch();
    // A transaction left open through rw keeps PAUSE waiting.
    const pg = (await import("pg")).default;
    const holder = new pg.Client(bouncer.url("rw"));
    await holder.connect();
    await holder.query("begin");
    await holder.query("select 1");
    try {
      const err = await switchover(canaries, traffic, { pauseTimeoutMs: 300 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SwitchoverAbortedError);
      expect((err as Error).message).toMatch(/aborted at pause: PAUSE of rw, ro did not complete within 300 ms .*resumed/);
      const dbs = await show(bouncer.adminUrl, "DATABASES");
      expect(dbs.filter((d) => d.name === "rw" || d.name === "ro").map((d) => Number(d.paused))).toEqual([0, 0]);
      expect((await query<{ r: boolean }>(fx.primary.url(), "select pg_is_in_recovery() as r"))[0]!.r).toBe(false);
      expect(canaries.canary()).toBeDefined();
    } finally {
      await holder.query("commit");
      await holder.end();
    }
    // Clients get through again.
    await expect(runSql(bouncer.url("rw"), "select 1 as one")).resolves.toEqual([{ one: 1 }]);
  });

  it("undoes a switchover that cannot promote: the old primary serves again and clients resume", async () => {
    // Replay paused on the canary: it can never reach the old primary's shutdown checkpoint.
    await query(canaries.canaryUrl(), "select pg_wal_replay_pause()");
    try {
      const err = await switchover(canaries, traffic, { replayTimeoutMs: 1_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SwitchoverAbortedError);
      expect((err as Error).message).toMatch(/not past .*; the old primary was restarted as primary and clients resumed/);
      expect((err as SwitchoverAbortedError).pauseMs).toBeLessThan(5_000);
    } finally {
      await query(canaries.canaryUrl(), "select pg_wal_replay_resume()");
    }
    expect((await query<{ r: boolean }>(fx.primary.url(), "select pg_is_in_recovery() as r"))[0]!.r).toBe(false);
    await expect(runSql(bouncer.url("rw"), "insert into pgbench_history (tid, bid, aid, delta, mtime) values (1, 1, 1, 0, now())")).resolves.toEqual([]);
    expect((await show(bouncer.adminUrl, "DATABASES")).find((d) => d.name === "rw")!.host).toBe(PRIMARY_HOST);
    expect(canaries.primary()).toEqual({ host: PRIMARY_HOST, port: fx.primary.port });
    // The canary follows the restarted primary again.
    await expect.poll(async () => (await query(canaries.canaryUrl(), "select status from pg_stat_wal_receiver"))[0]?.status, { timeout: 15_000 }).toBe("streaming");
  });

  it("switches over under pgbench -c 4 read-write with 0 failed transactions, history complete, pause under 2 s", async () => {
    await fx.primary.query("truncate pgbench_history");
    const run = startPgbench(bouncer.url("rw"), { clients: 4, threads: 1, seconds: 12 });
    runs.push(run);
    await new Promise((r) => setTimeout(r, 4_000));
    const result: SwitchoverResult = await switchover(canaries, traffic);
    const bench = pgbenchSummary(await run.done);
    console.log(`[switchover] pause ${result.pauseMs} ms; steps ${result.steps.map((s) => `${s.step} ${s.ms} ms`).join(", ")}`);
    console.log(`[switchover] shutdown checkpoint ${result.shutdownCheckpointLsn}, replayed to ${result.replayedLsn}; former primary ${JSON.stringify(result.formerPrimary)}`);
    console.log(`[switchover] pgbench: exit ${bench.exitCode}, processed ${bench.processed}, failed ${bench.failed}, aborted clients ${bench.abortedClients}`);

    expect(bench.output).not.toMatch(/aborted|error/i);
    expect(bench).toMatchObject({ exitCode: 0, failed: 0, abortedClients: 0 });
    expect(result.pauseMs).toBeLessThan(MAX_PAUSE_MS);
    expect(result.newPrimary).toEqual({ host: CANARY_HOST, port: fx.primary.port });

    const newPrimary = canaries.primaryUrl();
    expect(newPrimary).toContain(CANARY_HOST);
    const [history] = await query<{ n: number }>(newPrimary, "select count(*)::int as n from pgbench_history");
    expect(history!.n).toBe(bench.processed);
    expect((await query<{ r: boolean }>(newPrimary, "select pg_is_in_recovery() as r"))[0]!.r).toBe(false);
    // The stale primary_conninfo from pg_basebackup -R is gone from the promoted node.
    expect((await query<{ v: string }>(newPrimary, "select current_setting('primary_conninfo') as v"))[0]!.v).toBe("");

    // Both entries now point at the new primary.
    const dbs = await show(bouncer.adminUrl, "DATABASES");
    expect(dbs.find((d) => d.name === "rw")!.host).toBe(CANARY_HOST);
    expect(dbs.find((d) => d.name === "ro")!.host).toBe(Array(20).fill(CANARY_HOST).join(","));

    // The old primary came back as a standby streaming from the new one.
    expect(result.formerPrimary).toMatchObject({ host: PRIMARY_HOST, role: "standby" });
    expect((await query<{ r: boolean }>(fx.primary.url(), "select pg_is_in_recovery() as r"))[0]!.r).toBe(true);
    const [repl] = await query<{ state: string }>(newPrimary, "select state from pg_stat_replication where application_name = 'pg2une_former_primary'");
    expect(repl?.state).toBe("streaming");
    await runSql(bouncer.url("rw"), "create table after_switchover (x int); insert into after_switchover values (1)");
    await expect.poll(async () => (await query(fx.primary.url(), "select count(*)::int as n from pg_class where relname = 'after_switchover'"))[0]!.n, { timeout: 5_000 }).toBe(1);
    expect(canaries.state()).toMatchObject({ primary: { host: CANARY_HOST }, formerPrimary: { host: PRIMARY_HOST, role: "standby" } });
    expect(canaries.canary()).toBeUndefined();
  });

  it("routes through the new primary afterwards (a later rollout starts from it)", async () => {
    const route = makeRouter(canaries, traffic, { measureWindowMs: 500 });
    const r = await route.route(0);
    expect(r.routedBack).toBeNull();
    expect((await show(bouncer.adminUrl, "DATABASES")).find((d) => d.name === "rw")!.host).toBe(CANARY_HOST);
  });
});
