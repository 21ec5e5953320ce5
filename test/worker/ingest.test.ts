/**
 * POST /api/ingest inside workerd against the real PostgreSQL of the global setup: signed
 * pushes are stored once, everything else is refused with the field or the reason named, and a
 * refused push stores nothing.
 */
import { env, exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RawSample } from "../../src/core/metrics";
import { parseWorkerConfig } from "../../src/config";
import { HEADER_NONCE, HEADER_SIGNATURE, parseKeyRing, signRequest, verifySignedResponse, type SigningKey } from "../../src/protocol";
import { openDb, type DbHandle } from "../../src/store/db";
import { databaseNonceStore, pruneExpiredNonces } from "../../src/store/nonces";
import { rawSamples, seenNonces, systemSnapshots, targets } from "../../src/store/schema";
import { sample, statement } from "../support/metrics-fixtures";

const key = parseKeyRing(env.PG2UNE_RUNNER_KEYS).get("test")!;
const URL_ = "http://pg2une.test/api/ingest";
const MINUTE = 60_000;

let handle: DbHandle;
const target = `ingest-${crypto.randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  handle = openDb(parseWorkerConfig(env));
  await handle.db.insert(targets).values({ name: target, runnerUrl: "http://127.0.0.1:9", runnerKeyId: "test", enabled: false });
});
afterAll(async () => {
  await handle.close();
});

function sampleAt(atMs: number, xacts: number, id?: string): RawSample {
  return {
    ...sample({ at: atMs, sampleId: id, database: { xact_commit: xacts }, top: [statement("7", { calls: xacts, total_exec_time_ms: xacts * 0.2, stddev_exec_time_ms: 0.05 })] }),
    target,
  };
}

interface Pushed {
  status: number;
  json: Record<string, unknown> & { ok?: boolean; reason?: string; error?: string; status?: string; details?: Array<{ path: string; message: string }> };
  verified: boolean;
  sent: { headers: Record<string, string>; body: Uint8Array<ArrayBuffer> };
}

async function send(headers: Record<string, string>, body: Uint8Array<ArrayBuffer>, signer: SigningKey = key): Promise<Pushed> {
  const res = await exports.default.fetch(URL_, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const check = await verifySignedResponse({
    key: signer,
    request: { method: "POST", path: "/api/ingest", nonce: headers[HEADER_NONCE] ?? "", commandId: headers["x-pg2une-command-id"] ?? "" },
    status: res.status,
    headers: res.headers,
    body: bytes,
  });
  return { status: res.status, json: JSON.parse(new TextDecoder().decode(bytes)), verified: check.ok, sent: { headers, body } };
}

async function push(body: unknown, opts: { signer?: SigningKey; at?: number; tamper?: (h: Record<string, string>, b: Uint8Array) => void } = {}): Promise<Pushed> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const signer = opts.signer ?? key;
  const signed = await signRequest({ key: signer, method: "POST", path: "/api/ingest", body: text, commandId: `push-${crypto.randomUUID()}`, ...(opts.at ? { now: () => opts.at! } : {}) });
  const headers = { ...signed.headers };
  const bytes = Uint8Array.from(signed.body);
  opts.tamper?.(headers, bytes);
  return send(headers, bytes, signer);
}

async function stored(sampleId?: string) {
  const raw = await handle.db.select().from(rawSamples).where(eq(rawSamples.target, target));
  const snaps = await handle.db.select().from(systemSnapshots).where(eq(systemSnapshots.target, target));
  return sampleId === undefined ? { raw, snaps } : { raw: raw.filter((r) => r.sampleId === sampleId), snaps: snaps.filter((s) => s.sampleId === sampleId) };
}

describe("POST /api/ingest", () => {
  it("a valid signed push is stored once, answered with a signed 200, and its nonce is remembered in the database", async () => {
    const s = sampleAt(Date.now() - 30 * MINUTE, 1_000);
    const res = await push(s);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ ok: true, status: "stored", target, sample_id: s.sample_id, snapshot: { window_issue: "first_sample", tps: null } });
    expect(res.verified).toBe(true);
    const rows = await stored(s.sample_id);
    expect(rows.raw).toHaveLength(1);
    expect(rows.raw[0]!.source).toBe("agent");
    expect(rows.snaps).toHaveLength(1);
    const nonce = res.sent.headers[HEADER_NONCE]!;
    expect(await handle.db.select().from(seenNonces).where(eq(seenNonces.nonce, nonce))).toHaveLength(1);
  });

  it("a replayed push (same bytes, same nonce) is 401 replayed; re-signed, the same sample is 200 duplicate with one row", async () => {
    const s = sampleAt(Date.now() - 29 * MINUTE, 2_000);
    const first = await push(s);
    expect(first.json).toMatchObject({ status: "stored" });
    const replay = await send(first.sent.headers, first.sent.body);
    expect(replay.status).toBe(401);
    expect(replay.json).toMatchObject({ ok: false, reason: "replayed" });
    expect(replay.json.error).toContain("already used");
    // An agent retrying after a lost answer signs again (fresh nonce) with the same sample id.
    const retry = await push(s);
    expect(retry.status).toBe(200);
    expect(retry.json).toMatchObject({ ok: true, status: "duplicate", sample_id: s.sample_id });
    expect(retry.verified).toBe(true);
    const rows = await stored(s.sample_id);
    expect(rows.raw).toHaveLength(1);
    expect(rows.snaps).toHaveLength(1);
  });

  it("a replay is caught by a store with no memory of its own (another isolate): the nonce lives in the database", async () => {
    const fresh = databaseNonceStore(handle.db);
    const now = Math.floor(Date.now() / 1000);
    const nonce = crypto.randomUUID().replaceAll("-", "");
    expect(await fresh.remember(nonce, now + 300, now)).toBe(true);
    expect(await databaseNonceStore(handle.db).remember(nonce, now + 300, now)).toBe(false);
    // Once expired it may be taken again (it could no longer pass the freshness check), and the cron prunes it.
    expect(await databaseNonceStore(handle.db).remember(nonce, now + 1000, now + 301)).toBe(true);
    expect(await pruneExpiredNonces(handle.db, new Date((now + 1001) * 1000))).toBeGreaterThanOrEqual(1);
    expect(await handle.db.select().from(seenNonces).where(eq(seenNonces.nonce, nonce))).toEqual([]);
  });

  it("missing or bad signatures are 401 with the protocol's reason, and nothing is stored", async () => {
    const s = sampleAt(Date.now() - 28 * MINUTE, 3_000);
    const bytes = Uint8Array.from(new TextEncoder().encode(JSON.stringify(s)));
    const unsigned = await send({}, bytes);
    expect(unsigned.status).toBe(401);
    expect(unsigned.json).toMatchObject({ ok: false, reason: "unsigned" });
    const wrongSecret = await push(s, { signer: { id: "test", secret: new Uint8Array(32).fill(9) } });
    expect(wrongSecret).toMatchObject({ status: 401, json: { reason: "bad_signature" } });
    const unknownKey = await push(s, { signer: { id: "nobody", secret: new Uint8Array(32).fill(1) } });
    expect(unknownKey).toMatchObject({ status: 401, json: { reason: "unknown_key" } });
    const tampered = await push(s, { tamper: (_h, b) => void (b[b.length - 2] = "0".charCodeAt(0)) });
    expect(tampered).toMatchObject({ status: 401, json: { reason: "bad_signature" } });
    const badHeader = await push(s, { tamper: (h) => void (h[HEADER_SIGNATURE] = "zz") });
    expect(badHeader).toMatchObject({ status: 401, json: { reason: "malformed_auth" } });
    const stale = await push(s, { at: Date.now() - 10 * MINUTE });
    expect(stale).toMatchObject({ status: 401, json: { reason: "stale" } });
    for (const r of [unsigned, wrongSecret, unknownKey, tampered, badHeader, stale]) expect(r.verified).toBe(false);
    expect(await stored(s.sample_id)).toEqual({ raw: [], snaps: [] });
  });

  it("bad JSON (signed) is 400 invalid_json; nothing is stored", async () => {
    const before = (await stored()).raw.length;
    const res = await push('{"format": 1, "sample_id": ');
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ ok: false, reason: "invalid_json" });
    expect(res.json.error).toContain("not valid JSON");
    expect(res.verified).toBe(true);
    expect((await stored()).raw).toHaveLength(before);
  });

  it("a missing or mistyped field is 400 naming its path; nothing is stored", async () => {
    const base = sampleAt(Date.now() - 27 * MINUTE, 4_000);
    const { xact_commit: _gone, ...databaseWithout } = base.database;
    const cases: Array<[string, unknown]> = [
      ["database.xact_commit", { ...base, database: databaseWithout }],
      ["database.xact_commit", { ...base, database: { ...base.database, xact_commit: "many" } }],
      ["collected_at", { ...base, collected_at: "yesterday" }],
      ["statements.top[0].calls", { ...base, statements: { ...base.statements, top: [{ ...statement("7"), calls: -1 }] } }],
      ["target", { ...base, target: "not a name!" }],
    ];
    for (const [path, body] of cases) {
      const res = await push(body);
      expect(res.status, path).toBe(400);
      expect(res.json.reason).toBe("invalid_sample");
      expect(res.json.error).toContain(path);
      expect(res.json.details?.[0]?.path).toBe(path);
    }
    expect(await stored(base.sample_id)).toEqual({ raw: [], snaps: [] });
  });

  it("an unknown target is 404; nothing is stored", async () => {
    const s = { ...sampleAt(Date.now() - 26 * MINUTE, 5_000), target: "no-such-target" };
    const res = await push(s);
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ ok: false, reason: "unknown_target" });
    expect(await handle.db.select().from(rawSamples).where(eq(rawSamples.sampleId, s.sample_id))).toEqual([]);
  });

  it("an out-of-order push is stored and derived against its true predecessor; the successor is re-derived", async () => {
    const t = Date.now() - 20 * MINUTE;
    const [a, b, c] = [sampleAt(t, 10_000), sampleAt(t + 10_000, 11_000), sampleAt(t + 20_000, 13_000)];
    await push(a);
    await push(c);
    const late = await push(b);
    expect(late.json).toMatchObject({ status: "stored", rederived_sample_id: c.sample_id, snapshot: { tps: 100 } });
    const snapC = (await stored(c.sample_id)).snaps[0]!;
    expect(snapC.tps).toBeCloseTo(200, 9);
  });

  it("needs no API token (the signature is the credential), and a GET is not a route", async () => {
    const res = await push(sampleAt(Date.now() - 10 * MINUTE, 20_000));
    expect(res.status).toBe(200);
    expect((await exports.default.fetch(URL_)).status).toBe(404);
  });
});
