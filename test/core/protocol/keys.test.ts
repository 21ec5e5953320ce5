import { describe, expect, it } from "vitest";
import { KeyRingError, MIN_SECRET_BYTES, parseKeyRing } from "../../../src/protocol";

const secret32 = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));

describe("parseKeyRing (PG2UNE_RUNNER_KEYS)", () => {
  it("parses several keys for rotation", () => {
    const ring = parseKeyRing(`old:${secret32}, new:${secret32}`);
    expect([...ring.keys()]).toEqual(["old", "new"]);
    expect(ring.get("new")!.secret).toEqual(new Uint8Array(32).fill(7));
  });

  it("an empty spec is an empty ring", () => {
    expect(parseKeyRing("").size).toBe(0);
  });

  it.each([
    ["nocolon", /key #1: expected "id:base64secret"/],
    [`bad id!:${secret32}`, /key #1: key id "bad id!" is invalid/],
    ["k:***", /key "k": the secret is not valid base64/],
    [`k:${btoa("short")}`, new RegExp(`key "k": the secret is 5 bytes, at least ${MIN_SECRET_BYTES}`)],
    [`a:${secret32},a:${secret32}`, /key id "a" appears twice/],
  ])("refuses %j with a clear error", (spec, message) => {
    expect(() => parseKeyRing(spec)).toThrow(KeyRingError);
    expect(() => parseKeyRing(spec)).toThrow(message);
  });

  it("never echoes a secret in an error", () => {
    const leaky = `k:${btoa("0123456789abcdef")}`; // 16 bytes: too short
    try {
      parseKeyRing(leaky);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(btoa("0123456789abcdef"));
    }
  });
});
