/**
 * Shared signing keys. Both sides hold the same ring, written as
 * `PG2UNE_RUNNER_KEYS="id:base64secret,id2:base64secret2"`; several keys may be active at once so
 * a key can be rotated without downtime (add the new one on both sides, switch the sender's key
 * id, then remove the old one). Error messages name a key by its id or position, never its secret.
 *
 * @example
 *   const ring = parseKeyRing("k1:" + btoa("x".repeat(32)));
 *   ring.get("k1")?.secret.length; // 32
 */
import { z } from "zod";
import { fromBase64 } from "./bytes";

/** A secret shorter than the HMAC-SHA256 output (32 bytes) would be the weakest link. */
export const MIN_SECRET_BYTES = 32;

export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const KeyIdSchema = z.string().regex(KEY_ID_PATTERN, "a key id is 1–64 of A-Z a-z 0-9 . _ -");

export interface SigningKey {
  id: string;
  secret: Uint8Array;
}

export type KeyRing = ReadonlyMap<string, SigningKey>;

/** Parses one secret given as base64 (from a key file or an `id:secret` entry). */
export function parseSecret(base64: string, label: string): { ok: true; secret: Uint8Array } | { ok: false; message: string } {
  const secret = fromBase64(base64);
  if (!secret) return { ok: false, message: `${label}: the secret is not valid base64` };
  if (secret.length < MIN_SECRET_BYTES) {
    return {
      ok: false,
      message: `${label}: the secret is ${secret.length} bytes, at least ${MIN_SECRET_BYTES} are required (generate one with \`openssl rand -base64 32\`)`,
    };
  }
  return { ok: true, secret };
}

/** `"id:base64secret,…"` → KeyRing; an empty string is an empty ring (callers decide if that is allowed). */
export const KeyRingSchema = z.string().transform((spec, ctx): KeyRing => {
  const ring = new Map<string, SigningKey>();
  const entries = spec
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(":");
    const label = `key #${index + 1}`;
    if (colon <= 0) {
      ctx.addIssue({ code: "custom", message: `${label}: expected "id:base64secret"` });
      return;
    }
    const id = entry.slice(0, colon);
    if (!KEY_ID_PATTERN.test(id)) {
      ctx.addIssue({ code: "custom", message: `${label}: key id ${JSON.stringify(id)} is invalid (1–64 of A-Z a-z 0-9 . _ -)` });
      return;
    }
    if (ring.has(id)) {
      ctx.addIssue({ code: "custom", message: `key id "${id}" appears twice` });
      return;
    }
    const secret = parseSecret(entry.slice(colon + 1), `key "${id}"`);
    if (!secret.ok) {
      ctx.addIssue({ code: "custom", message: secret.message });
      return;
    }
    ring.set(id, { id, secret: secret.secret });
  });
  return ring;
});

export class KeyRingError extends Error {
  override name = "KeyRingError";
}

/** Parses a key ring or throws a KeyRingError listing every malformed entry. */
export function parseKeyRing(spec: string, source = "PG2UNE_RUNNER_KEYS"): KeyRing {
  const parsed = KeyRingSchema.safeParse(spec);
  if (!parsed.success) throw new KeyRingError(`${source} is malformed: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  return parsed.data;
}
