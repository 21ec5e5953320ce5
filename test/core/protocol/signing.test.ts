import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalRequestString,
  HEADER_COMMAND_ID,
  HEADER_KEY_ID,
  HEADER_NONCE,
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  MAX_CLOCK_SKEW_SECONDS,
  MemoryNonceStore,
  parseKeyRing,
  signRequest,
  signResponse,
  verifySignedRequest,
  verifySignedResponse,
  type KeyRing,
  type SigningKey,
} from "../../../src/protocol";

const T0 = 1_700_000_000; // seconds
const clock = (seconds: number) => () => seconds * 1000;
const counting = () => Uint8Array.from({ length: 16 }, (_, i) => i); // nonce 000102…0f
const KEYS: KeyRing = parseKeyRing(`test:${btoa(String.fromCharCode(...new Uint8Array(32).fill(1)))},other:${btoa(String.fromCharCode(...new Uint8Array(32).fill(2)))}`);
const key = KEYS.get("test")!;
const BODY = '{"type":"read_config","payload":{}}';

async function signed(overrides: Partial<{ key: SigningKey; at: number; body: string; commandId: string; randomBytes: () => Uint8Array }> = {}) {
  return signRequest({
    key: overrides.key ?? key,
    method: "POST",
    path: "/v1/commands",
    body: overrides.body ?? BODY,
    commandId: overrides.commandId ?? "cmd-1",
    now: clock(overrides.at ?? T0),
    ...(overrides.randomBytes ? { randomBytes: overrides.randomBytes } : {}),
  });
}

function verify(headers: Record<string, string>, body: string | Uint8Array, opts: { at?: number; nonces?: MemoryNonceStore; path?: string; method?: string; keys?: KeyRing } = {}) {
  return verifySignedRequest({
    method: opts.method ?? "POST",
    path: opts.path ?? "/v1/commands",
    headers,
    body,
    keys: opts.keys ?? KEYS,
    nonces: opts.nonces ?? new MemoryNonceStore(),
    now: clock(opts.at ?? T0),
  });
}

describe("signRequest: a fixed vector", () => {
  it("produces the documented canonical string and signature", async () => {
    const s = await signed({ randomBytes: counting });
    // The body hash and the HMAC below were computed independently with node:crypto.
    expect(
      canonicalRequestString({
        keyId: "test",
        method: "POST",
        path: "/v1/commands",
        timestamp: T0,
        nonce: "000102030405060708090a0b0c0d0e0f",
        commandId: "cmd-1",
        bodySha256: "673e455dc661a10adbcf503dd40a02efc70a8b7e9c4b5f399fe702d8aa554be6",
      }),
    ).toBe(
      "PG2UNE-HMAC-SHA256-V1\nrequest\ntest\nPOST\n/v1/commands\n1700000000\n000102030405060708090a0b0c0d0e0f\ncmd-1\n673e455dc661a10adbcf503dd40a02efc70a8b7e9c4b5f399fe702d8aa554be6",
    );
    expect(s.headers).toEqual({
      [HEADER_KEY_ID]: "test",
      [HEADER_TIMESTAMP]: "1700000000",
      [HEADER_NONCE]: "000102030405060708090a0b0c0d0e0f",
      [HEADER_COMMAND_ID]: "cmd-1",
      [HEADER_SIGNATURE]: "9c97a62d9e0029fbe273420443db69f5dbb49ac42bdc04e83c3d96dfe3297443",
    });
    expect(new TextDecoder().decode(s.body)).toBe(BODY);
  });

  it("signs a response bound to the request (fixed vector)", async () => {
    const headers = await signResponse({
      key,
      request: { method: "POST", path: "/v1/commands", nonce: "000102030405060708090a0b0c0d0e0f", commandId: "cmd-1" },
      status: 200,
      body: '{"ok":true}',
      now: clock(T0 + 1),
    });
    expect(headers[HEADER_SIGNATURE]).toBe("c27389a8852002345b7d79190f938a837ef12da94d093541c1e657b89616a4c5");
  });

  it("refuses to sign fields that could break the canonical string", async () => {
    await expect(signRequest({ key, method: "POST", path: "/v1/commands", body: "", commandId: "a\nb" })).rejects.toThrow(/commandId/);
    await expect(signRequest({ key, method: "POST", path: "/v1/commands x", body: "", commandId: "a" })).rejects.toThrow(/path/);
  });
});

describe("verifySignedRequest", () => {
  it("accepts a good request and returns its envelope and key", async () => {
    const s = await signed();
    const v = await verify(s.headers, s.body);
    expect(v).toMatchObject({ ok: true, keyId: "test", commandId: "cmd-1", timestamp: T0 });
  });

  it("accepts any active key (rotation)", async () => {
    const s = await signed({ key: KEYS.get("other")! });
    expect((await verify(s.headers, s.body)).ok).toBe(true);
  });

  it("unsigned: no signature header", async () => {
    expect(await verify({}, BODY)).toMatchObject({ ok: false, reason: "unsigned" });
  });

  it("malformed_auth: a header missing or malformed", async () => {
    const s = await signed();
    const { [HEADER_NONCE]: _drop, ...noNonce } = s.headers;
    expect(await verify(noNonce, s.body)).toMatchObject({ ok: false, reason: "malformed_auth", message: expect.stringContaining(HEADER_NONCE) });
    expect(await verify({ ...s.headers, [HEADER_TIMESTAMP]: "12.5" }, s.body)).toMatchObject({ ok: false, reason: "malformed_auth" });
    expect(await verify({ ...s.headers, [HEADER_SIGNATURE]: "XYZ" }, s.body)).toMatchObject({ ok: false, reason: "malformed_auth" });
  });

  it("unknown_key: a key id the verifier does not have", async () => {
    const stranger: SigningKey = { id: "stranger", secret: new Uint8Array(32).fill(9) };
    const s = await signed({ key: stranger });
    expect(await verify(s.headers, s.body)).toMatchObject({ ok: false, reason: "unknown_key" });
  });

  it("bad_signature: a known key id with the wrong secret", async () => {
    const impostor: SigningKey = { id: "test", secret: new Uint8Array(32).fill(9) };
    const s = await signed({ key: impostor });
    expect(await verify(s.headers, s.body)).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it("stale: older or newer than the allowed skew, accepted right at the edge", async () => {
    const s = await signed();
    expect((await verify(s.headers, s.body, { at: T0 + MAX_CLOCK_SKEW_SECONDS })).ok).toBe(true);
    expect(await verify(s.headers, s.body, { at: T0 + MAX_CLOCK_SKEW_SECONDS + 1 })).toMatchObject({ ok: false, reason: "stale" });
    expect(await verify(s.headers, s.body, { at: T0 - MAX_CLOCK_SKEW_SECONDS - 1 })).toMatchObject({ ok: false, reason: "stale" });
  });

  it("replayed: the same nonce twice inside the window; remembered until it would be stale anyway", async () => {
    const nonces = new MemoryNonceStore();
    const s = await signed();
    expect((await verify(s.headers, s.body, { nonces })).ok).toBe(true);
    expect(await verify(s.headers, s.body, { nonces, at: T0 + 10 })).toMatchObject({ ok: false, reason: "replayed" });
    expect(await verify(s.headers, s.body, { nonces, at: T0 + MAX_CLOCK_SKEW_SECONDS })).toMatchObject({ ok: false, reason: "replayed" });
    nonces.prune(T0 + MAX_CLOCK_SKEW_SECONDS + 1);
    expect(nonces.size).toBe(0);
  });

  it("a forged request does not consume a nonce", async () => {
    const nonces = new MemoryNonceStore();
    const s = await signed();
    await verify({ ...s.headers, [HEADER_SIGNATURE]: "0".repeat(64) }, s.body, { nonces });
    expect(nonces.size).toBe(0);
    expect((await verify(s.headers, s.body, { nonces })).ok).toBe(true);
  });

  it("headers are read from a Web Headers object too", async () => {
    const s = await signed();
    expect((await verify(new Headers(s.headers) as unknown as Record<string, string>, s.body)).ok).toBe(true);
  });
});

describe("property: flipping any byte of any signed field is refused", () => {
  const flip = (text: string, index: number, mask: number) => {
    const b = new TextEncoder().encode(text);
    const i = index % b.length;
    b[i] = b[i]! ^ mask;
    return new TextDecoder("utf-8", { fatal: false }).decode(b);
  };
  const mask = fc.integer({ min: 1, max: 255 });
  const index = fc.nat();

  it("body bytes", async () => {
    await fc.assert(
      fc.asyncProperty(index, mask, async (i, m) => {
        const s = await signed();
        const body = Uint8Array.from(s.body);
        body[i % body.length] = body[i % body.length]! ^ m;
        const v = await verify(s.headers, body);
        expect(v).toMatchObject({ ok: false, reason: "bad_signature" });
      }),
      { numRuns: 200 },
    );
  });

  for (const header of [HEADER_KEY_ID, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_COMMAND_ID, HEADER_SIGNATURE]) {
    it(`header ${header}`, async () => {
      await fc.assert(
        fc.asyncProperty(index, mask, async (i, m) => {
          const s = await signed();
          const tampered = flip(s.headers[header]!, i, m);
          fc.pre(tampered !== s.headers[header]);
          const v = await verify({ ...s.headers, [header]: tampered }, s.body);
          expect(v.ok).toBe(false);
        }),
        { numRuns: 200 },
      );
    });
  }

  it("method and path", async () => {
    await fc.assert(
      fc.asyncProperty(index, mask, fc.boolean(), async (i, m, which) => {
        const s = await signed();
        const method = which ? flip("POST", i, m) : "POST";
        const path = which ? "/v1/commands" : flip("/v1/commands", i, m);
        fc.pre(method !== "POST" || path !== "/v1/commands");
        expect((await verify(s.headers, s.body, { method, path })).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe("verifySignedResponse", () => {
  const request = { method: "POST", path: "/v1/commands", nonce: "000102030405060708090a0b0c0d0e0f", commandId: "cmd-1" };

  it("accepts the response to this request", async () => {
    const headers = await signResponse({ key, request, status: 200, body: '{"ok":true}', now: clock(T0) });
    expect(await verifySignedResponse({ key, request, status: 200, headers, body: '{"ok":true}', now: clock(T0) })).toEqual({ ok: true });
  });

  it("refuses it for another request, another status, another body, or when unsigned", async () => {
    const headers = await signResponse({ key, request, status: 200, body: '{"ok":true}', now: clock(T0) });
    const base = { key, request, status: 200, headers, body: '{"ok":true}', now: clock(T0) };
    expect(await verifySignedResponse({ ...base, request: { ...request, nonce: "ffffffffffffffffffffffffffffffff" } })).toMatchObject({ reason: "bad_signature" });
    expect(await verifySignedResponse({ ...base, request: { ...request, commandId: "cmd-2" } })).toMatchObject({ reason: "bad_signature" });
    expect(await verifySignedResponse({ ...base, status: 400 })).toMatchObject({ reason: "bad_signature" });
    expect(await verifySignedResponse({ ...base, body: '{"ok":false}' })).toMatchObject({ reason: "bad_signature" });
    expect(await verifySignedResponse({ ...base, headers: {} })).toMatchObject({ reason: "unsigned" });
    expect(await verifySignedResponse({ ...base, key: KEYS.get("other")! })).toMatchObject({ reason: "unknown_key" });
    expect(await verifySignedResponse({ ...base, now: clock(T0 + 1000) })).toMatchObject({ reason: "stale" });
  });

  it("a request signature is not a valid response signature (domain separation)", async () => {
    const s = await signed({ randomBytes: counting });
    const asResponse = { ...s.headers };
    expect(
      await verifySignedResponse({ key, request: { ...request }, status: 200, headers: asResponse, body: s.body, now: clock(T0) }),
    ).toMatchObject({ ok: false, reason: "bad_signature" });
  });
});
