/** HTTP header names of the signed protocol, and their formats. */

export const HEADER_KEY_ID = "x-pg2une-key-id";
export const HEADER_TIMESTAMP = "x-pg2une-timestamp";
export const HEADER_NONCE = "x-pg2une-nonce";
export const HEADER_COMMAND_ID = "x-pg2une-command-id";
export const HEADER_SIGNATURE = "x-pg2une-signature";

export const REQUEST_HEADERS = [HEADER_KEY_ID, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_COMMAND_ID, HEADER_SIGNATURE] as const;

/** Nonces: 16–128 URL-safe characters (we send 32 hex chars = 128 random bits). */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
/** Command ids (idempotency keys): 1–128 of A-Z a-z 0-9 . _ : - */
export const COMMAND_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** Unix seconds as a plain decimal integer. */
export const TIMESTAMP_PATTERN = /^\d{1,12}$/;
/** HMAC-SHA256 as 64 lowercase hex characters. */
export const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/;
/** Request target: starts with "/", no whitespace or control characters. */
export const PATH_PATTERN = /^\/[\x21-\x7e]*$/;
export const METHOD_PATTERN = /^[A-Z]{1,16}$/;

/** Headers as the Web `Headers` class or Node's IncomingHttpHeaders (lowercase names). */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

/** A header's single value; a repeated header counts as malformed (returns null). */
export function readHeader(source: HeaderSource, name: string): string | undefined | null {
  if (typeof (source as Headers).get === "function" && typeof (source as Headers).has === "function") {
    const v = (source as Headers).get(name);
    return v === null ? undefined : v;
  }
  const v = (source as Record<string, string | string[] | undefined>)[name];
  if (Array.isArray(v)) return v.length === 1 ? v[0] : null;
  return v;
}
