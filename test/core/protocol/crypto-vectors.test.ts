import { describe, expect, it } from "vitest";
import { constantTimeEqual, fromBase64, fromHex, hmacSha256, sha256Hex, toBase64, toHex } from "../../../src/protocol";

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const text = (s: string) => new TextEncoder().encode(s);

// RFC 4231 §4 (HMAC-SHA-256 column). Case 5 (truncated output) does not apply to us.
const RFC4231: Array<[string, Uint8Array, Uint8Array, string]> = [
  ["case 1", bytes(20, 0x0b), text("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
  ["case 2", text("Jefe"), text("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
  ["case 3", bytes(20, 0xaa), bytes(50, 0xdd), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"],
  ["case 4", Uint8Array.from({ length: 25 }, (_, i) => i + 1), bytes(50, 0xcd), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"],
  ["case 6", bytes(131, 0xaa), text("Test Using Larger Than Block-Size Key - Hash Key First"), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"],
  [
    "case 7",
    bytes(131, 0xaa),
    text("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."),
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
  ],
];

describe("HMAC-SHA256 and SHA-256 on WebCrypto", () => {
  it.each(RFC4231)("matches RFC 4231 %s", async (_name, key, data, expected) => {
    expect(toHex(await hmacSha256(key, data))).toBe(expected);
  });

  it("SHA-256 matches FIPS 180-2 examples", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});

describe("byte helpers", () => {
  it("constantTimeEqual compares content and length", () => {
    expect(constantTimeEqual(text("abc"), text("abc"))).toBe(true);
    expect(constantTimeEqual(text("abc"), text("abd"))).toBe(false);
    expect(constantTimeEqual(text("abc"), text("abcd"))).toBe(false);
    expect(constantTimeEqual(text(""), text(""))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([0]), new Uint8Array([]))).toBe(false);
  });

  it("hex and base64 round-trip and reject malformed input", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(fromHex(toHex(all))).toEqual(all);
    expect(fromBase64(toBase64(all))).toEqual(all);
    expect(fromBase64("AQEB")).toEqual(new Uint8Array([1, 1, 1]));
    expect(fromBase64("AQ")).toEqual(new Uint8Array([1])); // padding optional
    expect(fromHex("abc")).toBeUndefined();
    expect(fromHex("zz")).toBeUndefined();
    expect(fromBase64("not base64!")).toBeUndefined();
    expect(fromBase64("A")).toBeUndefined();
  });
});
