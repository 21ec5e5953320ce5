/**
 * A commandId is executed at most once: a repeat returns the journaled first result (same
 * status, same bytes) and runs nothing, across restarts and crashes of the runner.
 * "Ran once" is proven by undoing the change between the two sends: a second execution would
 * bring it back.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseKeyRing } from "../../../src/protocol";
import { createRunnerClient } from "../../../src/runner-client";
import { startTestCluster, type TestCluster } from "../../support/postgres";
import { startRunnerProcess, type RunnerProcess } from "../../support/runner-process";
import { sendSigned } from "../../support/signed-request";
import { TEST_RUNNER_KEYS } from "../../support/worker-constants";

const key = parseKeyRing(TEST_RUNNER_KEYS).get("test")!;
const APPLY = { type: "apply_config", payload: { settings: { work_mem: "64MB" } } };
const RESET = { type: "reset_config", payload: { knobs: ["work_mem"] } };

let cluster: TestCluster;
let runner: RunnerProcess;
const workMem = async () => (await cluster.query<{ work_mem: string }>("show work_mem"))[0]!.work_mem;
const commandLog = () =>
  runner
    .logs()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { event: string; commandId?: string });

beforeAll(async () => {
  cluster = await startTestCluster();
  runner = await startRunnerProcess({ targetUrl: cluster.url(), keys: TEST_RUNNER_KEYS });
});
afterAll(async () => {
  await runner?.destroy();
  await cluster?.destroy();
});

describe("same commandId twice", () => {
  it("the second returns the first result; the change happened once", async () => {
    const first = await sendSigned(runner.url, key, APPLY, { commandId: "apply-once-1" });
    expect(first).toMatchObject({ status: 200, verified: true });
    expect(await workMem()).toBe("64MB");
    await sendSigned(runner.url, key, RESET);
    expect(await workMem()).toBe("4MB");

    const second = await sendSigned(runner.url, key, APPLY, { commandId: "apply-once-1" });
    expect(second).toMatchObject({ status: 200, verified: true });
    expect(second.text).toBe(first.text); // same startedAt/finishedAt: the stored answer
    expect(second.headers.get("x-pg2une-journal")).toBe("replay");
    expect(await workMem()).toBe("4MB");
    expect(commandLog().filter((e) => e.event === "command_done" && e.commandId === "apply-once-1")).toHaveLength(1);
  });

  it("still true after a restart, and after a crash (SIGKILL), between the two", async () => {
    const first = await sendSigned(runner.url, key, APPLY, { commandId: "apply-once-2" });
    expect(first.status).toBe(200);
    await sendSigned(runner.url, key, RESET);
    await runner.restart();
    const afterRestart = await sendSigned(runner.url, key, APPLY, { commandId: "apply-once-2" });
    expect(afterRestart).toMatchObject({ status: 200, verified: true, text: first.text });
    await runner.kill();
    await runner.restart();
    const afterCrash = await sendSigned(runner.url, key, APPLY, { commandId: "apply-once-2" });
    expect(afterCrash).toMatchObject({ status: 200, verified: true, text: first.text });
    expect(await workMem()).toBe("4MB");
  });

  it("a definite refusal is journaled too; the client's retries reuse the id", async () => {
    const bad = { type: "apply_config", payload: { settings: { work_mem: "-1" } } };
    const a = await sendSigned(runner.url, key, bad, { commandId: "bad-once" });
    const b = await sendSigned(runner.url, key, bad, { commandId: "bad-once" });
    expect(a.status).toBe(400);
    expect(b).toMatchObject({ status: 400, text: a.text });
    expect(b.headers.get("x-pg2une-journal")).toBe("replay");

    const client = createRunnerClient({ url: runner.url, key });
    const x = await client.send("read_config", { knobs: ["work_mem"] }, { commandId: "read-once" });
    const y = await client.send("read_config", { knobs: ["work_mem"] }, { commandId: "read-once" });
    expect(y).toEqual(x);
  });

  it("concurrent duplicates run once: the second waits for the first", async () => {
    const [a, b] = await Promise.all([
      sendSigned(runner.url, key, APPLY, { commandId: "apply-concurrent" }),
      sendSigned(runner.url, key, APPLY, { commandId: "apply-concurrent" }),
    ]);
    expect(a.status).toBe(200);
    expect(b.text).toBe(a.text);
    expect([a.headers.get("x-pg2une-journal"), b.headers.get("x-pg2une-journal")].filter(Boolean)).toHaveLength(1);
    await sendSigned(runner.url, key, RESET);
  });

  it("the same commandId with a different body → 409 command_id_conflict, nothing runs", async () => {
    await sendSigned(runner.url, key, APPLY, { commandId: "apply-conflict" });
    await sendSigned(runner.url, key, RESET);
    const other = await sendSigned(runner.url, key, { type: "apply_config", payload: { settings: { work_mem: "128MB" } } }, { commandId: "apply-conflict" });
    expect(other).toMatchObject({ status: 409, verified: true, json: { reason: "command_id_conflict" } });
    expect(await workMem()).toBe("4MB");
  });

  it("the journal is on disk under the state dir, one file per command", () => {
    const files = readdirSync(join(runner.stateDir, "journal"));
    expect(files.filter((f) => f.endsWith(".json")).length).toBeGreaterThanOrEqual(6);
    expect(files.every((f) => /^[0-9a-f]{64}\.json$/.test(f))).toBe(true);
  });
});
