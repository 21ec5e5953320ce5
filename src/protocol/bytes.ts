/**
 * Byte helpers on Web-standard APIs only (TextEncoder, atob/btoa, crypto.subtle), so the same
 * code runs in workerd and Node.
 */

const encoder = new TextEncoder();

/** UTF-8 bytes of a string; byte arrays pass through untouched (we sign exact bytes). */
export function toBytes(data: string | Uint8Array): Uint8Array<ArrayBuffer> {
  if (typeof data === "string") return encoder.encode(data) as Uint8Array<ArrayBuffer>;
  // Copy into a plain ArrayBuffer so crypto.subtle accepts it whatever backs the input.
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  return copy;
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

const HEX = /^(?:[0-9a-f]{2})*$/i;

export function fromHex(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (!HEX.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Standard base64 (RFC 4648 §4) with optional padding; undefined when malformed. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed) || trimmed.replace(/=+$/, "").length % 4 === 1) return undefined;
  const padded = trimmed.replace(/=+$/, "").padEnd(Math.ceil(trimmed.replace(/=+$/, "").length / 4) * 4, "=");
  let binary: string;
  try {
    binary = atob(padded);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", toBytes(data))));
}

/** HMAC-SHA256 (RFC 2104 / FIPS 198-1) of `message` under `secret`. */
export async function hmacSha256(secret: Uint8Array, message: string | Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", toBytes(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, toBytes(message)));
}

/**
 * Equality whose running time depends only on the lengths, never on where the first difference
 * is, so a signature cannot be guessed byte by byte from response timings.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Cryptographically random bytes (injectable so tests can replay a signature exactly). */
export type RandomBytes = (length: number) => Uint8Array;

export const secureRandomBytes: RandomBytes = (length) => crypto.getRandomValues(new Uint8Array(length));
