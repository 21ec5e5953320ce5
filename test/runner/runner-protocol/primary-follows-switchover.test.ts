import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rolloutState } from "../../../runner/canary/state";
import { currentPrimaryUrl } from "../../../runner/server/runner";

describe("the runner's target follows a switchover", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "pg2une-primary-"));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it("uses the configured URL until a switchover records a new primary, then that node", async () => {
    const url = "postgres://app:secret@127.0.0.1:5432/shop?application_name=x";
    expect(currentPrimaryUrl(url, stateDir)).toBe(url);
    await rolloutState(stateDir).write({ primary: { host: "127.0.0.2", port: 6543 } });
    expect(currentPrimaryUrl(url, stateDir)).toBe("postgres://app:secret@127.0.0.2:6543/shop?application_name=x");
    expect(currentPrimaryUrl(undefined, stateDir)).toBeUndefined();
  });
});
