/**
 * Sign and verify HTTP requests and responses with HMAC-SHA256 over a canonical string.
 * Works for any path (runner commands on /v1/commands, agent pushes on /api/ingest).
 *
 * Order of checks when verifying a request, each failure a distinct reason:
 *   headers present (unsigned) → well-formed (malformed_auth) → key id known (unknown_key) →
 *   HMAC matches (bad_signature) → timestamp within ±300 s (stale) → nonce unused (replayed).
 * The nonce is remembered only once everything else passed, so forged traffic cannot fill the store.
 *
 * @example
 *   const signed = await signRequest({ key, method: "POST", path: "/v1/commands", body, commandId });
 *   await fetch(url + "/v1/commands", { method: "POST", headers: signed.headers, body: signed.body });
 *   // on the other side:
 *   const v = await verifySignedRequest({ method, path, headers, body, keys, nonces });
 *   if (!v.ok) return json(401, { error: v.message, reason: v.reason });
 */
import { constantTimeEqual, fromHex, hmacSha256, secureRandomBytes, sha256Hex, toBytes, toHex, type RandomBytes } from "./bytes";
import { canonicalRequestString, canonicalResponseString } from "./canonical";
import { authFailure, type AuthFailure } from "./errors";
import {
  COMMAND_ID_PATTERN,
  HEADER_COMMAND_ID,
  HEADER_KEY_ID,
  HEADER_NONCE,
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  METHOD_PATTERN,
  NONCE_PATTERN,
  PATH_PATTERN,
  readHeader,
  SIGNATURE_PATTERN,
  TIMESTAMP_PATTERN,
  type HeaderSource,
} from "./headers";
import { KEY_ID_PATTERN, type KeyRing, type SigningKey } from "./keys";
import type { NonceStore } from "./nonce-store";

/** A message whose timestamp is further than this from the verifier's clock is refused. */
export const MAX_CLOCK_SKEW_SECONDS = 300;
/** Random bytes per nonce (128 bits: collisions are not a concern). */
export const NONCE_BYTES = 16;

export type Clock = () => number;
const systemClock: Clock = () => Date.now();
const toSeconds = (ms: number) => Math.floor(ms / 1000);

/** The signed fields of one request (the envelope without the body). */
export interface SignedEnvelope {
  keyId: string;
  timestamp: number;
  nonce: string;
  commandId: string;
}

export interface SignRequestOptions {
  key: SigningKey;
  method: string;
  path: string;
  body: string | Uint8Array;
  /** Idempotency key: the same for every retry of one logical command. */
  commandId: string;
  now?: Clock;
  randomBytes?: RandomBytes;
}

export interface SignedRequest {
  headers: Record<string, string>;
  /** The exact bytes that were hashed; send these, not a re-serialization. */
  body: Uint8Array<ArrayBuffer>;
  envelope: SignedEnvelope;
}

export class SigningInputError extends Error {
  override name = "SigningInputError";
}

function checkField(value: string, pattern: RegExp, what: string): void {
  if (!pattern.test(value)) throw new SigningInputError(`cannot sign: ${what} ${JSON.stringify(value)} does not match ${pattern}`);
}

export async function signRequest(opts: SignRequestOptions): Promise<SignedRequest> {
  const method = opts.method.toUpperCase();
  checkField(method, METHOD_PATTERN, "method");
  checkField(opts.path, PATH_PATTERN, "path");
  checkField(opts.commandId, COMMAND_ID_PATTERN, "commandId");
  checkField(opts.key.id, KEY_ID_PATTERN, "key id");
  const body = toBytes(opts.body);
  const envelope: SignedEnvelope = {
    keyId: opts.key.id,
    timestamp: toSeconds((opts.now ?? systemClock)()),
    nonce: toHex((opts.randomBytes ?? secureRandomBytes)(NONCE_BYTES)),
    commandId: opts.commandId,
  };
  const canonical = canonicalRequestString({ ...envelope, method, path: opts.path, bodySha256: await sha256Hex(body) });
  const signature = toHex(await hmacSha256(opts.key.secret, canonical));
  return {
    headers: {
      [HEADER_KEY_ID]: envelope.keyId,
      [HEADER_TIMESTAMP]: String(envelope.timestamp),
      [HEADER_NONCE]: envelope.nonce,
      [HEADER_COMMAND_ID]: envelope.commandId,
      [HEADER_SIGNATURE]: signature,
    },
    body,
    envelope,
  };
}

export interface VerifyRequestOptions {
  method: string;
  /** Path plus query string exactly as received. */
  path: string;
  headers: HeaderSource;
  body: string | Uint8Array;
  keys: KeyRing;
  nonces: NonceStore;
  now?: Clock;
  maxSkewSeconds?: number;
}

export interface VerifiedRequest extends SignedEnvelope {
  ok: true;
  /** The key that signed it; sign the response with the same key. */
  key: SigningKey;
}

export async function verifySignedRequest(opts: VerifyRequestOptions): Promise<VerifiedRequest | AuthFailure> {
  const raw = {
    keyId: readHeader(opts.headers, HEADER_KEY_ID),
    timestamp: readHeader(opts.headers, HEADER_TIMESTAMP),
    nonce: readHeader(opts.headers, HEADER_NONCE),
    commandId: readHeader(opts.headers, HEADER_COMMAND_ID),
    signature: readHeader(opts.headers, HEADER_SIGNATURE),
  };
  if (raw.signature === undefined) {
    return authFailure("unsigned", `request is not signed: the ${HEADER_SIGNATURE} header is missing (sign it with a key from PG2UNE_RUNNER_KEYS)`);
  }
  const shape: Array<[keyof typeof raw, string, RegExp]> = [
    ["keyId", HEADER_KEY_ID, KEY_ID_PATTERN],
    ["timestamp", HEADER_TIMESTAMP, TIMESTAMP_PATTERN],
    ["nonce", HEADER_NONCE, NONCE_PATTERN],
    ["commandId", HEADER_COMMAND_ID, COMMAND_ID_PATTERN],
    ["signature", HEADER_SIGNATURE, SIGNATURE_PATTERN],
  ];
  for (const [field, header, pattern] of shape) {
    const v = raw[field];
    if (v === undefined) return authFailure("malformed_auth", `header ${header} is missing`);
    if (v === null) return authFailure("malformed_auth", `header ${header} was sent more than once`);
    if (!pattern.test(v)) return authFailure("malformed_auth", `header ${header} is malformed (expected ${pattern})`);
  }
  // Methods are case-sensitive (RFC 9110): "pOST" is not "POST", so nothing is normalized here.
  const method = opts.method;
  if (!METHOD_PATTERN.test(method) || !PATH_PATTERN.test(opts.path)) return authFailure("malformed_auth", "request method or path is malformed");
  const keyId = raw.keyId as string;
  const key = opts.keys.get(keyId);
  if (!key) return authFailure("unknown_key", `key id "${keyId}" is not one of this verifier's keys`);

  const envelope: SignedEnvelope = {
    keyId,
    timestamp: Number(raw.timestamp),
    nonce: raw.nonce as string,
    commandId: raw.commandId as string,
  };
  const canonical = canonicalRequestString({ ...envelope, method, path: opts.path, bodySha256: await sha256Hex(opts.body) });
  const expected = await hmacSha256(key.secret, canonical);
  const given = fromHex(raw.signature as string);
  if (!given || !constantTimeEqual(expected, given)) {
    return authFailure("bad_signature", `signature does not match (wrong secret for key "${keyId}", or the request was altered)`);
  }

  const now = toSeconds((opts.now ?? systemClock)());
  const maxSkew = opts.maxSkewSeconds ?? MAX_CLOCK_SKEW_SECONDS;
  const skew = now - envelope.timestamp;
  if (Math.abs(skew) > maxSkew) {
    return authFailure("stale", `timestamp is ${Math.abs(skew)} s ${skew > 0 ? "old" : "in the future"}; at most ${maxSkew} s allowed (check both clocks)`);
  }
  // Keep the nonce until the same timestamp would fail the freshness check anyway.
  if (!(await opts.nonces.remember(envelope.nonce, envelope.timestamp + maxSkew, now))) {
    return authFailure("replayed", `nonce ${envelope.nonce} was already used; a retry must be signed again with a new nonce`);
  }
  return { ok: true, ...envelope, key };
}

/** What a response is bound to: the one HTTP attempt it answers. */
export interface RequestBinding {
  method: string;
  path: string;
  nonce: string;
  commandId: string;
}

export interface SignResponseOptions {
  key: SigningKey;
  request: RequestBinding;
  status: number;
  body: string | Uint8Array;
  now?: Clock;
}

export async function signResponse(opts: SignResponseOptions): Promise<Record<string, string>> {
  const timestamp = toSeconds((opts.now ?? systemClock)());
  const canonical = canonicalResponseString({
    keyId: opts.key.id,
    status: opts.status,
    timestamp,
    request: opts.request,
    bodySha256: await sha256Hex(opts.body),
  });
  return {
    [HEADER_KEY_ID]: opts.key.id,
    [HEADER_TIMESTAMP]: String(timestamp),
    [HEADER_NONCE]: opts.request.nonce,
    [HEADER_COMMAND_ID]: opts.request.commandId,
    [HEADER_SIGNATURE]: toHex(await hmacSha256(opts.key.secret, canonical)),
  };
}

export interface VerifyResponseOptions {
  /** The key the request was signed with; the response must use the same one. */
  key: SigningKey;
  /** Taken from the caller's own request, never from the response. */
  request: RequestBinding;
  status: number;
  headers: HeaderSource;
  body: string | Uint8Array;
  now?: Clock;
  maxSkewSeconds?: number;
}

export async function verifySignedResponse(opts: VerifyResponseOptions): Promise<{ ok: true } | AuthFailure> {
  const keyId = readHeader(opts.headers, HEADER_KEY_ID);
  const timestamp = readHeader(opts.headers, HEADER_TIMESTAMP);
  const signature = readHeader(opts.headers, HEADER_SIGNATURE);
  if (signature === undefined) return authFailure("unsigned", `response is not signed (no ${HEADER_SIGNATURE} header)`);
  if (!keyId || !timestamp || !signature || !TIMESTAMP_PATTERN.test(timestamp) || !SIGNATURE_PATTERN.test(signature)) {
    return authFailure("malformed_auth", "response signature headers are malformed");
  }
  if (keyId !== opts.key.id) return authFailure("unknown_key", `response is signed with key "${keyId}", the request used "${opts.key.id}"`);
  const canonical = canonicalResponseString({
    keyId,
    status: opts.status,
    timestamp: Number(timestamp),
    request: opts.request,
    bodySha256: await sha256Hex(opts.body),
  });
  const given = fromHex(signature);
  if (!given || !constantTimeEqual(await hmacSha256(opts.key.secret, canonical), given)) {
    return authFailure("bad_signature", "response signature does not match this request (altered, or an answer to another request)");
  }
  const skew = toSeconds((opts.now ?? systemClock)()) - Number(timestamp);
  const maxSkew = opts.maxSkewSeconds ?? MAX_CLOCK_SKEW_SECONDS;
  if (Math.abs(skew) > maxSkew) return authFailure("stale", `response timestamp is ${Math.abs(skew)} s off; at most ${maxSkew} s allowed`);
  return { ok: true };
}
