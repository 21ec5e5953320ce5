/**
 * The runner's on-disk state without a runner around it: the nonce log and the journal
 * survive reopening, tolerate a torn write, stay bounded, and never accept a nonce twice.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NonceStoreFullError } from "../../../src/protocol";
import { BRIEF_JOURNAL_OPTIONS, CommandJournal } from "../../../runner/state/journal";
import { FileNonceStore, NONCE_LOG_COMPACT_SLACK } from "../../../runner/state/nonce-file-store";
import { lockStateDir } from "../../../runner/state/state-lock";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "pg2une-state-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const NOW = 1_700_000_000;

describe("FileNonceStore", () => {
  it("remembers across reopen; forgets what expired", async () => {
    const path = join(dir, "nonces.log");
    const a = await FileNonceStore.open(path, { nowSeconds: NOW });
    expect(await a.remember("n-keep", NOW + 300, NOW)).toBe(true);
    expect(await a.remember("n-old", NOW + 5, NOW)).toBe(true);
    expect(await a.remember("n-keep", NOW + 300, NOW)).toBe(false);
    await a.close();
    const b = await FileNonceStore.open(path, { nowSeconds: NOW + 10 });
    expect(b.size).toBe(1);
    expect(await b.remember("n-keep", NOW + 310, NOW + 10)).toBe(false);
    expect(await b.remember("n-old", NOW + 310, NOW + 10)).toBe(true); // expired, may be used again
    await b.close();
  });

  it("ignores a torn last line from a crash", async () => {
    const path = join(dir, "nonces.log");
    writeFileSync(path, `${JSON.stringify({ n: "good", e: NOW + 300 })}\n{"n":"tor`);
    const s = await FileNonceStore.open(path, { nowSeconds: NOW });
    expect(await s.remember("good", NOW + 300, NOW)).toBe(false);
    expect(readFileSync(path, "utf8")).toBe(`${JSON.stringify({ n: "good", e: NOW + 300 })}\n`);
    await s.close();
  });

  it("concurrent use of one nonce: exactly one wins", async () => {
    const s = await FileNonceStore.open(join(dir, "nonces.log"), { nowSeconds: NOW });
    const results = await Promise.all(Array.from({ length: 10 }, () => s.remember("same", NOW + 300, NOW)));
    expect(results.filter(Boolean)).toHaveLength(1);
    await s.close();
  });

  it("compacts the log and refuses (rather than forgets) when full", async () => {
    const path = join(dir, "nonces.log");
    const s = await FileNonceStore.open(path, { nowSeconds: NOW, maxEntries: 5 });
    for (let i = 0; i < 5; i++) expect(await s.remember(`n${i}`, NOW + 300, NOW)).toBe(true);
    await expect(s.remember("n5", NOW + 300, NOW)).rejects.toBeInstanceOf(NonceStoreFullError);
    // Once they expired there is room again.
    expect(await s.remember("n6", NOW + 700, NOW + 400)).toBe(true);
    await s.close();

    const big = await FileNonceStore.open(join(dir, "big.log"), { nowSeconds: NOW });
    // The first batch expires before the second is written; then only the second is on disk.
    for (let i = 0; i < NONCE_LOG_COMPACT_SLACK; i++) await big.remember(`old${i}`, NOW + 1, NOW);
    for (let i = 0; i < NONCE_LOG_COMPACT_SLACK; i++) await big.remember(`new${i}`, NOW + 305, NOW + 5);
    await big.close();
    const lines = readFileSync(join(dir, "big.log"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(NONCE_LOG_COMPACT_SLACK);
    expect(lines.every((l) => l.includes('"new'))).toBe(true);
  });
});

describe("CommandJournal", () => {
  const entry = (commandId: string) => ({ commandId, requestSha256: "ab", type: "read_config", status: 200, body: `{"id":"${commandId}"}` });

  it("stores and returns by commandId across reopen", async () => {
    const j = await CommandJournal.open(join(dir, "journal"));
    expect(await j.get("c1")).toBeUndefined();
    await j.put(entry("c1"));
    const again = await CommandJournal.open(join(dir, "journal"));
    expect(await again.get("c1")).toMatchObject(entry("c1"));
  });

  it("prunes by age and by count, and removes temp files a crash left", async () => {
    let now = Date.now();
    const path = join(dir, "journal");
    const j = await CommandJournal.open(path, { retentionMs: 60_000, maxEntries: 3, now: () => now });
    for (let i = 0; i < 5; i++) await j.put(entry(`c${i}`));
    const files = readdirSync(path);
    utimesSync(join(path, files[0]!), new Date(now - 120_000), new Date(now - 120_000));
    writeFileSync(join(path, ".x.json.123.abcd.tmp"), "half");
    const result = await j.prune();
    expect(result.kept).toBe(3);
    expect(readdirSync(path).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    now += 61_000 + 60_000;
    expect((await j.prune()).kept).toBe(0);
  });

  it("the brief journal (collect answers) prunes itself every few writes, keeping only minutes of answers", async () => {
    let now = Date.now();
    const path = join(dir, "journal-brief");
    const j = await CommandJournal.open(path, { ...BRIEF_JOURNAL_OPTIONS, now: () => now });
    for (let i = 0; i < BRIEF_JOURNAL_OPTIONS.pruneEveryWrites - 1; i++) await j.put(entry(`old${i}`));
    for (const f of readdirSync(path)) utimesSync(join(path, f), new Date(now - 16 * 60_000), new Date(now - 16 * 60_000));
    now += 1;
    await j.put(entry("fresh")); // the 10th write prunes: the old ones are past 15 minutes
    expect(readdirSync(path).filter((f) => f.endsWith(".json"))).toHaveLength(1);
    expect(await j.get("fresh")).toMatchObject(entry("fresh"));
  });

  it("a corrupt entry reads as missing (and is reported)", async () => {
    const warnings: string[] = [];
    const j = await CommandJournal.open(join(dir, "journal"), { onWarning: (e) => warnings.push(e) });
    await j.put(entry("c1"));
    const [file] = readdirSync(join(dir, "journal"));
    appendFileSync(join(dir, "journal", file!), "garbage");
    expect(await j.get("c1")).toBeUndefined();
    expect(warnings).toEqual(["journal_entry_unreadable"]);
  });
});

describe("state dir lock", () => {
  it("one runner per state dir; a stale pid file is taken over", () => {
    const unlock = lockStateDir(dir);
    writeFileSync(join(dir, "runner.pid"), "1\n"); // pid 1 is alive: someone else holds it
    expect(() => lockStateDir(dir)).toThrow(/in use by runner pid 1/);
    writeFileSync(join(dir, "runner.pid"), "999999999\n"); // no such process
    const again = lockStateDir(dir);
    again();
    unlock();
  });
});
